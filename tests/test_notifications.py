"""Notifications end to end: Telegram through the fake Bot API, the web chat by polling, and
two senders sharing one outbox (never one message twice)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import App
from bot.delivery import Delivery, DeliveryResult, OutboxWorker
from bot.domain.outbox_payload import replies_to_payload
from bot.messages import Channel, Reply
from bot.server import make_web_app
from storage.models import OutboxMessage
from storage.repositories import outbox
from tests.conftest import make_settings
from tests.dossier_fixtures import CODE, OWNER_ID, build_city, ingest
from tests.fake_telegram import FakeTelegram
from tests.test_telegram import FAST, TOKEN
from tests.transcript import Conversation

CHAT = 424242


def finished(event_id: str, status: int = 9) -> dict[str, object]:
    return {
        "events": [
            {
                "id": event_id,
                "dossier_code": CODE,
                "at": "2026-01-20T09:00:00+07:00",
                "status": status,
            }
        ]
    }


async def statuses(app: App) -> list[str]:
    async with app.sessions() as s:
        return list(await s.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


async def test_telegram_subscriber_gets_the_notification(database_url: str, tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN) as fake:
        app = App.build(
            make_settings(
                database_url,
                tmp_path,
                telegram_bot_token=TOKEN,
                telegram_api_base_url=fake.base_url,
            )
        )
        assert app.telegram is not None and app.outbox is not None
        app.telegram.tuning = FAST
        await app.start(migrate_db=False, watch=False, channels=True)
        try:
            assert await app.telegram.wait_ready(5)
            await build_city(app)
            c = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=str(CHAT))
            await c.say(CODE)
            await c.say(OWNER_ID)
            await c.tap_label("Báo tôi khi có thay đổi")
            await ingest(app, finished("done-1"))
            await app.outbox.run_once()
            message, invitation = fake.messages(CHAT)
            assert "đã chuyển sang trạng thái: Đã xử lý xong" in message["text"]
            assert "để nhận kết quả" in message["text"]
            assert "Mời bạn đánh giá" in invitation["text"]  # the rating invitation
            assert await statuses(app) == ["sent"]
            # The user blocks the bot: the next notification is undeliverable, not retried.
            fake.fail(
                "sendMessage",
                403,
                chat_id=CHAT,
                times=None,
                description="Forbidden: bot was blocked by the user",
            )
            await ingest(app, finished("returned-1", status=10))
            await app.outbox.run_once()
            assert await statuses(app) == ["sent", "undeliverable"]
            # A later change (here the same dossier sent again as a snapshot with a corrected
            # status: no event may follow the result handed over, ingest refuses one) is not
            # even tried.
            await ingest(
                app,
                {
                    "dossiers": [
                        {
                            "code": CODE,
                            "procedure_code": "1.001193",
                            "receiving_agency": "000.00.12.H13",
                            "received_date": "2026-01-15",
                            "due_date": "2026-01-22",
                            "finished_date": "2026-01-20",
                            "status": 9,
                        }
                    ]
                },
            )
            await app.outbox.run_once()
            assert await statuses(app) == ["sent", "undeliverable", "undeliverable"]
            assert len(fake.messages(CHAT)) == 2
        finally:
            await app.close()


async def test_the_web_chat_collects_its_notifications(app: App) -> None:
    await build_city(app)
    async with TestClient(TestServer(make_web_app(app))) as client:

        async def say(**body: object) -> dict:  # type: ignore[type-arg]
            resp = await client.post("/api/chat", json=body)
            assert resp.status == 200
            return await resp.json()  # type: ignore[no-any-return]

        session = (await say(text=CODE))["session"]
        shown = await say(session=session, text=OWNER_ID)
        subscribe = next(
            c["value"]
            for r in shown["replies"]
            for c in r["choices"]
            if c["value"].startswith("ds:on:")
        )
        await say(session=session, choice=subscribe)
        await ingest(app, finished("web-1"))
        resp = await client.get("/api/chat/updates", headers={"X-Session-Token": session})
        body = await resp.json()
        assert resp.status == 200 and len(body["replies"]) == 2
        assert "Đã xử lý xong" in body["replies"][0]["text"]
        again = await (
            await client.get("/api/chat/updates", headers={"X-Session-Token": session})
        ).json()
        assert again["replies"] == []
        resp = await client.get(
            "/api/chat/updates", headers={"X-Session-Token": "forged-session-123456"}
        )
        assert resp.status == 401


class SlowChannel:
    """A platform that takes a while to accept each message, and records what it got."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult:
        await asyncio.sleep(0.01)
        self.log.append(chat_id)
        return DeliveryResult(Delivery.SENT)


async def test_two_senders_never_send_one_message_twice(
    app: App, database_url: str, tmp_path: Path
) -> None:
    async with app.sessions() as s, s.begin():
        for i in range(60):
            await outbox.enqueue(
                s,
                dedupe_key=f"k{i}",
                channel="telegram",
                chat_id=str(i),
                payload=replies_to_payload([Reply(f"tin {i}")]),
            )
    other = App.build(make_settings(database_url, tmp_path))  # a second process
    delivered: list[str] = []
    workers = [
        OutboxWorker(a.sessions, {"telegram": SlowChannel(delivered)}, batch=7)
        for a in (app, other)
    ]
    try:

        async def drain(worker: OutboxWorker) -> None:
            while await worker.run_once():
                pass

        await asyncio.gather(*(drain(w) for w in workers))
    finally:
        await other.close()
    assert sorted(delivered, key=int) == [str(i) for i in range(60)]
    assert await statuses(app) == ["sent"] * 60


async def test_failures_back_off_then_park(app: App) -> None:
    class Down:
        async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult:
            return DeliveryResult(Delivery.RETRY, "503 from the platform")

    async with app.sessions() as s, s.begin():
        await outbox.enqueue(
            s,
            dedupe_key="p",
            channel="telegram",
            chat_id="1",
            payload=replies_to_payload([Reply("x")]),
        )
    worker = OutboxWorker(app.sessions, {"telegram": Down()}, retry_base_delay=0)
    for _ in range(outbox.MAX_ATTEMPTS):
        assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    async with app.sessions() as s:
        row = (await s.scalars(select(OutboxMessage))).one()
    assert (row.status, row.attempts, row.last_error) == (
        "parked",
        outbox.MAX_ATTEMPTS,
        "503 from the platform",
    )
