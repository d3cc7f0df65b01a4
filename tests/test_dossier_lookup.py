"""Dossier lookup transcripts: verification, the same answer for unknown codes and wrong
owners, the lockout, masking, audit, and notifications through the outbox."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from bot.app import App
from bot.delivery import Delivery, DeliveryResult, OutboxWorker
from bot.messages import Channel, Reply
from handlers.context import Services
from storage.models import LookupAudit, OutboxMessage
from tests.dossier_fixtures import CODE, OWNER_ID, OWNER_PHONE, TODAY, build_city, ingest
from tests.transcript import Conversation


@pytest.fixture
async def city(app: App) -> App:
    await build_city(app)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: TODAY)
    return app


async def test_a_pasted_code_is_looked_up_after_verification(city: App) -> None:
    c = Conversation(city.dispatcher)
    await c.say(f"cho hỏi hồ sơ {CODE} tới đâu rồi ạ")
    assert "số CCCD/căn cước của chủ hồ sơ" in c.text
    await c.say(OWNER_ID)
    text = c.text
    assert f"Hồ sơ {CODE}" in text
    assert "Thủ tục: Đăng ký khai sinh" in text
    assert "Nơi tiếp nhận: UBND phường Ninh Kiều" in text
    assert "Chủ hồ sơ: Nguyễn V. A." in text
    assert "Văn An" not in text
    assert "Trạng thái: Đang xử lý" in text
    assert "Ngày tiếp nhận: 15/01/2026" in text
    assert "Ngày hẹn trả: 22/01/2026" in text
    assert "Tiến độ: Đang trong hạn" in text
    assert OWNER_ID not in text
    assert OWNER_PHONE not in text


async def test_the_registered_phone_also_proves_ownership(city: App) -> None:
    c = Conversation(city.dispatcher)
    await c.say("tra cứu hồ sơ")
    assert "Mời bạn nhập mã hồ sơ" in c.text
    await c.say(CODE.lower())
    await c.say("0912.345.678")
    assert "Trạng thái: Đang xử lý" in c.text


async def test_an_unknown_code_and_a_wrong_owner_get_the_same_answer(city: App) -> None:
    wrong_owner = Conversation(city.dispatcher, chat_id="a")
    await wrong_owner.say(f"/tracuu {CODE}")
    await wrong_owner.say("079000000000")
    unknown_code = Conversation(city.dispatcher, chat_id="b")
    await unknown_code.say("/tracuu 000.00.12.H13-260115-0999")
    await unknown_code.say(OWNER_ID)
    assert wrong_owner.last == unknown_code.last
    assert "Không tìm thấy hồ sơ khớp" in wrong_owner.text


async def test_five_failures_lock_the_user_out_for_an_hour(city: App) -> None:
    c = Conversation(city.dispatcher)
    for code in (CODE, "000.00.12.H13-260115-0999"):  # under 3 failures on each dossier
        await c.say(f"/tracuu {code}")
        for _ in range(2 if code == CODE else 3):
            await c.say("079000000000")
            assert "Không tìm thấy" in c.text
    await c.say(f"/tracuu {CODE}")
    await c.say(OWNER_ID)  # even the right number is refused now
    assert "tạm dừng đến" in c.text
    assert "Chủ hồ sơ" not in c.text
    async with city.sessions() as s:
        outcomes = list(await s.scalars(select(LookupAudit.outcome).order_by(LookupAudit.id)))
    assert outcomes == ["failed"] * 5 + ["locked"]


async def test_the_audit_never_holds_what_was_typed(city: App) -> None:
    c = Conversation(city.dispatcher)
    await c.say(f"/tracuu {CODE}")
    await c.say(OWNER_ID)
    async with city.sessions() as s:
        rows = list(await s.scalars(select(LookupAudit)))
    assert [r.outcome for r in rows] == ["ok"]
    row = rows[0]
    assert row.code == CODE
    assert row.dossier_id is not None
    assert OWNER_ID not in repr(vars(row))
    assert row.user_hash != c.chat_id


class RecordingChannel:
    """A stand-in for a chat platform: records what the outbox delivers."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Reply]]] = []

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult:
        self.sent.append((chat_id, list(replies)))
        return DeliveryResult(Delivery.SENT)


async def test_a_subscriber_is_notified_once_when_the_status_changes(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="777")
    await c.say(CODE)
    await c.say(OWNER_ID)
    await c.tap_label("Báo tôi khi có thay đổi")
    assert "Đã bật thông báo" in c.text
    event = {"id": "evt-1", "dossier_code": CODE, "at": "2026-01-20T09:00:00+07:00", "status": 9}
    await ingest(city, {"events": [event]})
    await ingest(city, {"events": [event]})  # redelivered: changes nothing
    telegram = RecordingChannel()
    worker = OutboxWorker(city.sessions, {"telegram": telegram})
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    ((chat_id, replies),) = telegram.sent
    assert chat_id == "777"
    assert "Đã xử lý xong" in replies[0].text
    assert "để nhận kết quả" in replies[0].text
    async with city.sessions() as s:
        statuses = list(await s.scalars(select(OutboxMessage.status)))
    assert statuses == ["sent"]


async def test_huythongbao_stops_notifications(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="778")
    await c.say(CODE)
    await c.say(OWNER_PHONE)
    await c.tap_label("Báo tôi khi có thay đổi")
    await c.say("/huythongbao")
    assert "Đã tắt mọi thông báo" in c.text
    await ingest(
        city,
        {
            "events": [
                {
                    "id": "e2",
                    "dossier_code": CODE,
                    "at": "2026-01-20T09:00:00",
                    "status": 5,
                    "note": "Thiếu giấy chứng sinh",
                }
            ]
        },
    )
    async with city.sessions() as s:
        assert list(await s.scalars(select(OutboxMessage))) == []


async def test_subscribing_needs_a_verified_lookup(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="779")
    await c.tap("ds:on:1")  # a forged button
    assert "đã cũ" in c.text
