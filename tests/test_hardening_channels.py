"""Hardening of the channels (issue 14): L3, stale signed Zalo OA events are refused; M2, the
Telegram send rate holds across workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.delivery import Delivery
from bot.messages import Reply
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZaloOA
from tests.test_telegram import FAST as TG_FAST
from tests.test_telegram import TOKEN as TG_TOKEN
from tests.test_telegram import telegram_app
from tests.test_zalo import CITIZEN, CS_MESSAGE_PATH, oa_app, processed_events
from tests.test_zalo import fake as fake  # the fixture
from tests.test_zalo import sqlite_url as sqlite_url  # the fixture


async def test_signed_zalo_events_outside_the_time_window_are_refused(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(
        sqlite_url, tmp_path, fake, knowledge=False, zalo_oa_max_event_age_seconds=600
    ) as (app, channel):
        now_ms = int(time.time() * 1000)
        stale = dict(fake.follow_event(CITIZEN), timestamp=str(now_ms - 11 * 60 * 1000))
        future = dict(fake.follow_event(CITIZEN), timestamp=str(now_ms + 11 * 60 * 1000))
        for event in (stale, future):
            delivery = await fake.post_event(event)  # correctly signed, timestamp included
            assert delivery.status == 400 and "timestamp" in delivery.answer
        await channel.drain()
        assert fake.calls_of(CS_MESSAGE_PATH) == []
        assert await processed_events(app) == 0
        recent = dict(fake.follow_event(CITIZEN), timestamp=str(now_ms - 9 * 60 * 1000))
        assert (await fake.post_event(recent)).status == 200
        await channel.drain()
        assert "Xin chào" in fake.messages(CITIZEN)[0]["text"]


@pytest.fixture
async def telegram_fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TG_TOKEN) as server:
        yield server


async def test_the_telegram_send_rate_holds_across_two_workers(
    database_url: str, tmp_path: Path, telegram_fake: FakeTelegram
) -> None:
    """Two workers sending at once stay within one overall rate (5 a second here), where two
    in-process limiters alone would allow twice that."""
    tuning = replace(TG_FAST, overall_per_second=5)
    async with (
        telegram_app(
            database_url, tmp_path, telegram_fake, webhook=True, knowledge=False, tuning=tuning
        ) as one,
        telegram_app(
            database_url, tmp_path, telegram_fake, webhook=True, knowledge=False, tuning=tuning
        ) as two,
    ):
        workers = [one.telegram, two.telegram]
        for w in workers:
            assert w is not None and await w.wait_ready()
        results = await asyncio.gather(
            *(
                workers[i % 2].deliver(str(700_000 + i), [Reply(f"tin {i}")])  # type: ignore[union-attr]
                for i in range(20)
            )
        )
        assert all(r.outcome is Delivery.SENT for r in results)
    sends = sorted(c.at for c in telegram_fake.calls_of("sendMessage"))
    assert len(sends) == 20
    # 20 messages at 5 a second fill four one-second windows: just over 2 s from first to
    # last when the first window is nearly over (the fake server's clock stamps arrivals, a
    # loaded machine delays the first by a fraction of a second: 1.8 s was seen). Each worker
    # limited alone (10 messages at 5 a second each) takes about 1 s.
    assert sends[-1] - sends[0] > 1.5


async def test_a_telegram_group_gets_no_dossier_but_a_private_chat_does(
    sqlite_url: str, tmp_path: Path, telegram_fake: FakeTelegram
) -> None:
    """M1 through the adapter: a group is marked as such, a private chat is not."""
    from handlers import texts_dossier
    from tests.dossier_fixtures import CODE, OWNER_ID, build_city
    from tests.test_telegram import GROUP, Citizen, connected

    async with connected(sqlite_url, tmp_path, telegram_fake, "polling") as (app, citizen):
        await build_city(app)
        group = Citizen(telegram_fake, citizen.channel, citizen.deliver, chat_id=GROUP)
        await group.say(f"@motcua_test_bot tra cứu hồ sơ {CODE}")
        assert group.last[0]["text"] == texts_dossier.PRIVATE_ONLY
        await citizen.say(CODE)
        await citizen.say(OWNER_ID)
        assert f"Hồ sơ {CODE}" in citizen.last[0]["text"]
