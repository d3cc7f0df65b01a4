"""The webhook inbox: Telegram, Zalo OA and Zalo Bot acknowledge an update once it is stored,
and handling runs from the store, in order per chat, surviving the worker that received it.

Real HTTP against the fake platforms (tests/fake_telegram.py, tests/fake_zalo.py), real
SQLite and PostgreSQL; a "dead worker" is a lease left on a stored row by an owner that never
finishes it, exactly what a SIGKILLed process leaves behind (bench/cluster.py kills real ones).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text, update

from bot.app import App
from bot.channels import zalo_bot
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.server import make_web_app
from bot.update_inbox import InboxTuning
from storage.models import MessageLog, utcnow
from storage.models.inbox import DONE, PENDING, InboundUpdate
from storage.repositories import retention
from storage.repositories import webhook_inbox as repo
from storage.repositories.webhook_inbox import Stored
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZaloBot, FakeZaloOA
from tests.test_telegram import TOKEN as TG_TOKEN
from tests.test_telegram import WEBHOOK_SECRET, telegram_app
from tests.test_zalo import (
    BOT_CHAT,
    BOT_SECRET,
    BOT_TOKEN,
    CITIZEN,
    NEIGHBOUR,
    bot_app,
    oa_app,
    processed_events,
)
from tests.test_zalo import fake as fake  # the Zalo OA fake (fixture)
from tests.test_zalo import sqlite_url as sqlite_url  # the fixture

TG_CHAT = 424242
FAST_INBOX = InboxTuning(poll_seconds=0.05, retry_seconds=0.1)


@pytest.fixture
async def telegram_fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TG_TOKEN) as server:
        yield server


async def inbox_rows(app: App) -> list[InboundUpdate]:
    async with app.sessions() as session:
        return list(await session.scalars(select(InboundUpdate).order_by(InboundUpdate.id)))


# ---------------------------------------------------------------- acknowledgement


async def test_a_webhook_answers_200_only_once_the_update_is_stored(
    sqlite_url: str, tmp_path: Path, telegram_fake: FakeTelegram
) -> None:
    """While the database refuses the insert, Telegram gets 503 (it will deliver again) and
    nothing is handled; once it accepts, the 200 comes with the row already committed."""
    async with (
        telegram_app(sqlite_url, tmp_path, telegram_fake, webhook=True, knowledge=False) as app,
        TestClient(TestServer(make_web_app(app))) as client,
    ):
        assert app.telegram is not None and await app.telegram.wait_ready()
        headers = {SECRET_HEADER: WEBHOOK_SECRET}
        update_ = telegram_fake.message_update(TG_CHAT, "/start")
        async with app.engine.begin() as conn:  # a full disk, a read-only file...
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON inbound_updates "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
        resp = await client.post(WEBHOOK_PATH, json=update_, headers=headers)
        assert resp.status == 503 and "error" in await resp.json()
        await app.telegram.drain()
        assert await inbox_rows(app) == []
        assert telegram_fake.messages(TG_CHAT) == []
        async with app.engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER refuse"))

        assert app.inbox is not None
        await app.inbox.stop("telegram")  # nobody handles what comes now
        resp = await client.post(WEBHOOK_PATH, json=update_, headers=headers)
        assert resp.status == 200
        [row] = await inbox_rows(app)  # committed before the answer, still waiting
        assert (row.state, row.event_id, row.attempts) == (PENDING, str(update_["update_id"]), 0)
        assert str(TG_CHAT) not in row.chat_key  # a keyed hash, not the chat id
        await app.inbox.start("telegram")
        await app.telegram.drain()
        assert "Xin chào" in telegram_fake.messages(TG_CHAT)[0]["text"]
        [row] = await inbox_rows(app)
        assert (row.state, row.payload) == (DONE, "")  # what the citizen wrote is erased


async def test_the_zalo_oa_webhook_answers_before_a_slow_reply_and_keeps_the_event(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, channel):
        fake.slow("/v3.0/oa/message/cs", 0.5)
        delivery = await fake.post_event(fake.follow_event(CITIZEN))
        assert delivery.status == 200 and delivery.latency < 0.4
        [row] = await inbox_rows(app)
        assert row.channel == "zalo_oa" and row.event_id.startswith("follow:")
        await channel.drain()
        assert len(fake.messages(CITIZEN)) == 2
        assert [r.state for r in await inbox_rows(app)] == [DONE]


async def test_a_redelivery_is_stored_once_and_answered_once(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        FakeZaloBot(BOT_TOKEN) as fake_bot,
        bot_app(database_url, tmp_path, fake_bot, webhook=True, knowledge=False) as (app, client),
    ):
        url = str(client.make_url(zalo_bot.WEBHOOK_PATH))
        start = fake_bot.update(BOT_CHAT, "/start")
        assert await fake_bot.push(url, start) == 200
        assert await fake_bot.push(url, start) == 200  # Zalo retries a webhook it thinks failed
        # One body carrying the same update twice, and the bare envelope of it once more.
        resp = await client.post(
            zalo_bot.WEBHOOK_PATH,
            json={"ok": True, "result": [start, start]},
            headers={zalo_bot.SECRET_HEADER: BOT_SECRET},
        )
        assert resp.status == 200
        assert app.zalo_bot is not None
        await app.zalo_bot.drain()
        assert len(await inbox_rows(app)) == 1
        assert len(fake_bot.messages(BOT_CHAT)) == 2  # the greeting and the menu, once
        assert await processed_events(app) == 1


# ---------------------------------------------------------------- order and takeover


async def test_claims_hand_out_each_chats_oldest_update_only_and_expired_leases_again(
    database_url: str, tmp_path: Path, app: App
) -> None:
    """The rule that keeps a chat's order across workers, on both databases."""

    async def claim(owner: str, lease: float = 60.0) -> list[str]:
        async with app.sessions() as session, session.begin():
            rows = await repo.claim(
                session,
                channels=("telegram",),
                owner=owner,
                lease=timedelta(seconds=lease),
                limit=10,
            )
        return [r.event_id for r in rows]

    async with app.sessions() as session, session.begin():
        items = [Stored("telegram", e, chat, "{}") for e, chat in [("a1", "A"), ("b1", "B")]]
        items += [Stored("telegram", "a2", "A", "{}"), Stored("telegram", "c1", "C", "{}")]
        assert await repo.store(session, items) == 4
        assert await repo.store(session, [Stored("telegram", "a1", "A", "{}")]) == 0
    assert await claim("one") == ["a1", "b1", "c1"]
    assert await claim("two") == []  # every head is leased; a2 waits for a1
    async with app.sessions() as session, session.begin():
        a1 = await session.scalar(select(InboundUpdate.id).where(InboundUpdate.event_id == "a1"))
        assert a1 is not None
        await repo.finish(session, a1)
        # c1's worker died: its lease ran out.
        await session.execute(
            update(InboundUpdate)
            .where(InboundUpdate.event_id == "c1")
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
    assert await claim("two") == ["a2", "c1"]
    async with app.sessions() as session:
        c1 = await session.scalar(select(InboundUpdate).where(InboundUpdate.event_id == "c1"))
        assert c1 is not None and (c1.lease_owner, c1.attempts) == ("two", 2)


async def test_concurrent_claims_never_share_a_row(database_url: str, app: App) -> None:
    async with app.sessions() as session, session.begin():
        await repo.store(
            session, [Stored("zalo_oa", f"e{i}", f"chat{i % 40}", "{}") for i in range(200)]
        )

    async def claim(owner: str) -> list[int]:
        async with app.sessions() as session, session.begin():
            rows = await repo.claim(
                session, channels=("zalo_oa",), owner=owner, lease=timedelta(seconds=60), limit=15
            )
            await asyncio.sleep(0.05)  # hold the rows while the others claim
        return [r.id for r in rows]

    results = await asyncio.gather(*(claim(f"w{i}") for i in range(4)))
    ids = [i for r in results for i in r]
    assert len(ids) == len(set(ids)) == 40  # one head per chat, each handed out once


async def test_one_users_events_are_handled_in_order_by_two_workers(
    database_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with (
        oa_app(database_url, tmp_path, fake, knowledge=False) as (one, first),
        oa_app(database_url, tmp_path, fake, knowledge=False) as (two, second),
    ):
        for worker in (one, two):
            assert worker.inbox is not None
            worker.inbox.tuning = FAST_INBOX
        sent: dict[str, list[str]] = {CITIZEN: [], NEIGHBOUR: []}
        for i in range(12):  # acknowledged at once, handled later by either worker
            for user in sent:
                question = f"lệ phí đăng ký tạm trú lần {i}"
                sent[user].append(question)
                assert (await fake.post_event(fake.text_event(user, question))).status == 200
        await first.drain()
        await second.drain()
        async with one.sessions() as session:
            logged = list(await session.execute(select(MessageLog.user_hash, MessageLog.question)))
        by_user: dict[str, list[str]] = {}
        for user_hash, question in logged:
            by_user.setdefault(user_hash, []).append(question)
        assert sorted(by_user.values()) == sorted(sent.values())  # each once, in order
        owners = {r.lease_owner for r in await inbox_rows(one)}
        assert owners == {None}  # all done


async def test_an_event_whose_worker_died_is_handled_by_another(
    database_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(database_url, tmp_path, fake, knowledge=False) as (first, _):
        assert first.inbox is not None
        await first.inbox.stop("zalo_oa")  # the worker that will die takes nothing by itself
        assert (await fake.post_event(fake.follow_event(CITIZEN))).status == 200
        async with first.sessions() as session, session.begin():  # it claimed it, then died
            [claimed] = await repo.claim(
                session,
                channels=("zalo_oa",),
                owner="worker-killed-mid-handling",
                lease=timedelta(seconds=1.5),
                limit=10,
            )
        async with oa_app(database_url, tmp_path, fake, knowledge=False) as (second, channel):
            assert second.inbox is not None
            second.inbox.tuning = FAST_INBOX
            await asyncio.sleep(0.5)
            assert fake.messages(CITIZEN) == []  # the lease still holds
            await channel.drain()
            assert len(fake.messages(CITIZEN)) == 2  # greeting and menu, once
            assert await processed_events(second) == 1
            [row] = await inbox_rows(second)
            assert (row.id, row.state, row.attempts) == (claimed.id, DONE, 2)
        await first.inbox.start("zalo_oa")  # for a clean stop


# ---------------------------------------------------------------- refusals and retention


async def test_forged_webhooks_store_nothing(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA, telegram_fake: FakeTelegram
) -> None:
    async with (
        telegram_app(sqlite_url, tmp_path, telegram_fake, webhook=True, knowledge=False) as tg,
        TestClient(TestServer(make_web_app(tg))) as client,
    ):
        forged = telegram_fake.message_update(TG_CHAT, "/start")
        for headers in ({}, {SECRET_HEADER: WEBHOOK_SECRET + "x"}):
            assert (await client.post(WEBHOOK_PATH, json=forged, headers=headers)).status == 401
        assert await inbox_rows(tg) == []
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, _):
        event = fake.follow_event(CITIZEN)
        assert (await fake.post_event(event, signature="mac=" + "0" * 64)).status == 401
        assert (await fake.post_event(event, signature="")).status == 401
        assert await inbox_rows(app) == []
    async with (
        FakeZaloBot(BOT_TOKEN) as fake_bot,
        bot_app(sqlite_url, tmp_path, fake_bot, webhook=True, knowledge=False) as (bot, client),
    ):
        url = str(client.make_url(zalo_bot.WEBHOOK_PATH))
        assert await fake_bot.push(url, fake_bot.update(BOT_CHAT, "/start"), secret="no") == 401
        assert await inbox_rows(bot) == []


async def test_retention_purges_handled_updates_and_keeps_waiting_ones(app: App) -> None:
    async with app.sessions() as session, session.begin():
        await repo.store(
            session, [Stored("telegram", e, "A", "{}") for e in ("old-done", "old-waiting", "new")]
        )
        old = utcnow() - timedelta(days=30)
        await session.execute(
            update(InboundUpdate)
            .where(InboundUpdate.event_id.in_(("old-done", "old-waiting")))
            .values(received_at=old)
        )
        await session.execute(
            update(InboundUpdate)
            .where(InboundUpdate.event_id.in_(("old-done", "new")))
            .values(state=DONE)
        )
    async with app.sessions() as session, session.begin():
        deleted = await retention.purge(session, retention.Retention())
    assert deleted["inbound_updates"] == 1
    async with app.sessions() as session:
        left = await session.scalars(select(InboundUpdate.event_id).order_by(InboundUpdate.id))
        assert list(left) == ["old-waiting", "new"]
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 2


async def test_a_lease_is_renewed_while_a_slow_reply_is_sent(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    """Handling that outlasts the lease (a slow platform) is not taken over by the other
    worker: the lease is renewed while the worker is alive."""
    short = InboxTuning(lease_seconds=1.2, poll_seconds=0.05, retry_seconds=0.1)
    async with (
        oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (one, first),
        oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (two, second),
    ):
        for worker in (one, two):
            assert worker.inbox is not None
            worker.inbox.tuning = short
        await asyncio.sleep(1.2)  # past the renewers' first (default) pause
        fake.slow("/v3.0/oa/message/cs", 1.2)  # two replies: 2.4 s, two leases
        assert (await fake.post_event(fake.follow_event(CITIZEN))).status == 200
        await second.drain()
        await first.drain()
        [row] = await inbox_rows(one)
        assert (row.state, row.attempts) == (DONE, 1)  # claimed once, never taken over
        assert len(fake.messages(CITIZEN)) == 2


async def test_a_chats_replies_keep_their_order_across_two_telegram_workers(
    sqlite_url: str, tmp_path: Path, telegram_fake: FakeTelegram
) -> None:
    """A stored update is done only once its replies are sent, so the chat's next update,
    handled by the other worker, cannot overtake them (sending is slow here)."""
    async with (
        telegram_app(sqlite_url, tmp_path, telegram_fake, webhook=True, knowledge=False) as one,
        telegram_app(sqlite_url, tmp_path, telegram_fake, webhook=True, knowledge=False) as two,
        TestClient(TestServer(make_web_app(two))) as client,
    ):
        assert one.inbox is not None and two.inbox is not None
        for worker in (one, two):
            assert worker.telegram is not None and await worker.telegram.wait_ready()
            worker.inbox.tuning = FAST_INBOX  # type: ignore[union-attr]
        telegram_fake.slow("sendMessage", 0.5)
        headers = {SECRET_HEADER: WEBHOOK_SECRET}

        async def post(command: str) -> None:
            update_ = telegram_fake.message_update(TG_CHAT, command)
            assert (await client.post(WEBHOOK_PATH, json=update_, headers=headers)).status == 200

        await two.inbox.stop("telegram")  # the first update goes to the first worker
        await post("/start")  # a greeting and the menu: two slow sends
        # Until the first worker is done (a deadline, not a count of polls: on a loaded machine
        # 100 polls of 20 ms passed before the two sends, and the worker was stopped mid-send).
        deadline = asyncio.get_running_loop().time() + 30
        while [r.state for r in await inbox_rows(one)] != [DONE]:
            assert asyncio.get_running_loop().time() < deadline, "the first update never finished"
            await asyncio.sleep(0.02)
        await one.inbox.stop("telegram")  # and the next one to the second worker
        await two.inbox.start("telegram")
        await post("/help")
        # Claiming can be held back while the loop runs late (bot/update_inbox.py, LoopLag):
        # drain only once the second update is done, or drain finds nothing to wait for yet.
        deadline = asyncio.get_running_loop().time() + 30
        while [r.state for r in await inbox_rows(two)] != [DONE, DONE]:
            assert asyncio.get_running_loop().time() < deadline, "the second update never finished"
            await asyncio.sleep(0.02)
        await two.telegram.drain()  # type: ignore[union-attr]
        await one.inbox.start("telegram")
        await one.telegram.drain()  # type: ignore[union-attr]
        sent = [m["text"] for m in telegram_fake.messages(TG_CHAT)]
        assert len(sent) == 3
        assert "Xin chào" in sent[0] and sent[2].startswith("Cách dùng")
