"""Hardening of the dossier lookup lockout (issue 14, M5): guessing is still limited, but a
stranger's failures never lock the real owner out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from handlers.context import Services
from storage.models import LookupAudit
from tests.dossier_fixtures import CODE, OWNER_ID, build_city
from tests.test_dossier_lookup import TODAY
from tests.transcript import Conversation


@pytest.fixture
async def city(app: App) -> App:
    await build_city(app)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: TODAY)
    return app


async def guess(app: App, who: str, *numbers: str) -> Conversation:
    c = Conversation(app.dispatcher, chat_id=who)
    await c.say(f"/tracuu {CODE}")
    for number in numbers:
        await c.say(number)
    return c


async def test_strangers_failures_do_not_lock_the_owner_out(city: App) -> None:
    for n in range(5):  # 10 failures on the dossier from five sources: "under attack"
        await guess(city, f"stranger-{n}", "079000000000", "0900000000")
    owner = await guess(city, "owner", OWNER_ID)
    assert f"Hồ sơ {CODE}" in owner.text and "tạm dừng" not in owner.text
    # Every source that has failed on it is locked out of it now...
    again = await guess(city, "stranger-0", OWNER_ID)
    assert "tạm dừng đến" in again.text and "Chủ hồ sơ" not in again.text
    # ...and a new source gets a single attempt.
    newcomer = await guess(city, "newcomer", "079000000001")
    assert "Không tìm thấy" in newcomer.text
    await newcomer.say(OWNER_ID)
    assert "tạm dừng đến" in newcomer.text and "Chủ hồ sơ" not in newcomer.text
    async with city.sessions() as s:
        outcomes = list(await s.scalars(select(LookupAudit.outcome).order_by(LookupAudit.id)))
    assert outcomes.count("ok") == 1 and outcomes.count("locked") == 2


async def test_three_failures_lock_a_source_out_of_that_dossier_for_a_day(city: App) -> None:
    c = await guess(city, "guesser", "079000000000", "079000000001", "079000000002")
    await c.say(OWNER_ID)  # even the right number: this source has guessed too often
    assert "tạm dừng đến" in c.text and "Chủ hồ sơ" not in c.text
