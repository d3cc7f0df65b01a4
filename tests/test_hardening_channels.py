"""Hardening of the channels (issue 14): L3, stale signed Zalo OA events are refused."""

from __future__ import annotations

import time
from pathlib import Path

from tests.fake_zalo import FakeZaloOA
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
