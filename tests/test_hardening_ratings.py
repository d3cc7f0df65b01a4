"""Hardening of service-point ratings (issue 14, M3): only through the flow that offered them,
one per person per place per day, grouped alerts, and out of the indexes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain.stats.indexes import compute
from bot.domain.stats.periods import Period
from bot.messages import Channel
from handlers import texts_feedback
from storage.models import FeedbackResponse, OutboxMessage
from storage.repositories import dossiers as repo
from storage.repositories import roles
from tests.dossier_fixtures import build_city
from tests.transcript import Conversation


@pytest.fixture
async def city(app: App) -> App:
    await build_city(app)
    async with app.sessions() as s, s.begin():
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        assert ward is not None
        await roles.grant(
            s,
            user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, "77"),
            channel="telegram",
            user_id="77",
            role=roles.STAFF,
            agency=ward,
            alerts=True,
        )
    return app


async def ward_id(app: App) -> int:
    async with app.sessions() as s:
        ward = await repo.agency_by_code(s, "000.00.12.H13")
    assert ward is not None
    return ward.id


async def count(app: App, model: type, *where: object) -> int:
    async with app.sessions() as s:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await s.scalar(stmt) or 0)


async def rate_through_the_flow(app: App, who: str, level_label: str) -> Conversation:
    c = Conversation(app.dispatcher, channel=Channel.WEB, chat_id=who)
    await c.say("/danhgia")
    await c.tap_label("Nơi làm thủ tục")
    await c.say("phuong ninh kieu")
    await c.tap(c.values[0])
    await c.tap_label(level_label)
    return c


async def test_a_service_point_rating_needs_the_flow_that_offered_it(city: App) -> None:
    ward = await ward_id(city)
    for n in range(5):  # fresh sessions posting the rating button directly
        forger = Conversation(city.dispatcher, channel=Channel.WEB, chat_id=f"forger-{n}")
        await forger.tap(f"ra:{ward}:1")
        assert forger.last[0].text != "Cảm ơn bạn đã đánh giá!"
        await forger.tap(f"dg:a:{ward}")  # nor by choosing a place never offered
        assert forger.last[0].text != "Cảm ơn bạn đã đánh giá!"
        assert not any(v.startswith("ra:") for v in forger.values)
    assert await count(city, FeedbackResponse) == 0
    assert await count(city, OutboxMessage) == 0
    c = await rate_through_the_flow(city, "citizen", "Không hài lòng")
    assert c.last[0].text == "Cảm ơn bạn đã đánh giá!"
    assert await count(city, FeedbackResponse) == 1


async def test_one_service_point_rating_per_person_per_place_per_day(city: App) -> None:
    await rate_through_the_flow(city, "citizen", "Hài lòng")
    again = await rate_through_the_flow(city, "citizen", "Không hài lòng")
    assert again.last[0].text == texts_feedback.ALREADY_RATED_PLACE
    assert await count(city, FeedbackResponse) == 1


async def test_a_flood_of_service_point_ratings_neither_moves_the_index_nor_floods_staff(
    city: App,
) -> None:
    for n in range(20):
        await rate_through_the_flow(city, f"flooder-{n}", "Không hài lòng")
    assert await count(city, FeedbackResponse, FeedbackResponse.kind == "service_point") == 20
    assert await count(city, OutboxMessage) == 1  # one grouped alert for the hour
    today = date.today()
    period = Period(date(today.year, 1, 1), date(today.year, 12, 31), "năm nay")
    async with city.sessions() as s:
        stats = await compute(
            s, period=period, calendar=city.dispatcher.services.calendar, concurrent=False
        )
    assert stats.satisfaction.rating3_valid == 0  # unverified ratings are not in the index
    assert stats.satisfaction.rating3_satisfied_pct is None
