"""Rating transcripts: the one-tap rating, the survey with skipping, comments masked, one rating
per dossier, stale buttons, rating a service point, alerts to staff, and roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.domain.outbox_payload import payload_to_replies
from bot.messages import Channel
from handlers.context import Services
from storage.models import FeedbackAnswer, FeedbackInvitation, FeedbackResponse, OutboxMessage
from storage.repositories import dossiers as repo
from storage.repositories import roles
from tests.dossier_fixtures import CODE, OWNER_ID, TODAY, build_city, ingest
from tests.transcript import Conversation

STAFF_ID = "900100"


@pytest.fixture
async def city(app: App) -> App:
    await build_city(app)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: TODAY)
    async with app.sessions() as s, s.begin():
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        await roles.grant(
            s,
            user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, STAFF_ID),
            channel="telegram",
            user_id=STAFF_ID,
            role="staff",
            agency=ward,
            alerts=True,
        )
    return app


async def finished_with_invitation(app: App, chat_id: str = "555") -> Conversation:
    """A citizen who looked up and subscribed, then the dossier finished."""
    c = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=chat_id)
    await c.say(CODE)
    await c.say(OWNER_ID)
    await c.tap_label("Báo tôi khi có thay đổi")
    await ingest(
        app,
        {
            "events": [
                {"id": "fin", "dossier_code": CODE, "at": "2026-01-20T09:00:00+07:00", "status": 9}
            ]
        },
    )
    async with app.sessions() as s:
        row = (await s.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id))).one()
    c.last = payload_to_replies(row.payload)  # what the notification showed
    return c


async def alerts(app: App) -> list[str]:
    async with app.sessions() as s:
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == STAFF_ID))
        return [payload_to_replies(r.payload)[0].text for r in rows]


async def test_the_full_rating_with_survey_and_comment(city: App) -> None:
    c = await finished_with_invitation(city)
    assert "Mời bạn đánh giá" in c.last[-1].text
    assert c.labels[-3:] == ["😊 Rất hài lòng", "🙂 Hài lòng", "🙁 Không hài lòng"]
    await c.tap_label("Rất hài lòng")
    assert c.last[0].text == "Cảm ơn bạn đã đánh giá!"
    await c.tap_label("Đồng ý")
    assert c.text.startswith("Câu 1/5") and "Bỏ qua" in c.labels
    await c.tap_label("5 · Rất hài lòng")
    await c.tap_label("Bỏ qua")  # question 2 skipped
    await c.tap_label("4 · Hài lòng")
    await c.tap_label("2 · Không hài lòng")  # an alert
    await c.tap_label("5 · Rất hài lòng")
    assert "góp ý" in c.text
    await c.say("Cán bộ tận tình, nhưng gọi số 0912 345 678 không ai nghe máy")
    assert "Cảm ơn bạn đã dành thời gian góp ý" in c.text
    async with city.sessions() as s:
        response = (await s.scalars(select(FeedbackResponse))).one()
        answers = list(await s.scalars(select(FeedbackAnswer).order_by(FeedbackAnswer.id)))
        invitation = (await s.scalars(select(FeedbackInvitation))).one()
    assert "0912" not in response.comment and "[số đã ẩn]" in response.comment
    assert [(a.item_code, a.value, a.is_valid) for a in answers] == [
        ("rating3", 3, True),
        ("sipas.tiep_can", 5, True),
        ("sipas.tthc", None, False),
        ("sipas.cong_chuc", 4, True),
        ("sipas.ket_qua", 2, True),
        ("sipas.pakn", 5, True),
    ]
    assert invitation.responded_at is not None
    (alert,) = await alerts(city)
    assert "Kết quả giải quyết: 2/5" in alert and "UBND phường Ninh Kiều" in alert
    assert OWNER_ID not in alert and "Văn An" not in alert


async def test_one_rating_per_dossier_and_stale_survey_buttons(city: App) -> None:
    c = await finished_with_invitation(city)
    invitation_buttons = list(c.values)
    await c.tap_label("Không hài lòng")
    survey_buttons = list(c.values)
    await c.tap_label("Không, cảm ơn")
    await c.tap(invitation_buttons[-3])  # the invitation again
    assert "đã đánh giá hồ sơ này rồi" in c.text
    await c.tap(survey_buttons[0])  # the finished survey's "Đồng ý"
    assert "đã cũ" in c.text
    stranger = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="666")
    await stranger.tap(invitation_buttons[-1])  # someone else's invitation
    assert "đã cũ" in stranger.text
    (alert,) = await alerts(city)  # one alert: the rating, not the declined survey
    assert "Không hài lòng (đánh giá chung)" in alert


async def test_rating_a_service_point_without_a_dossier(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="w1")
    await c.say("/danhgia")
    assert "tra cứu hồ sơ trước" in c.text
    await c.tap_label("Nơi làm thủ tục")
    await c.say("phuong ninh kieu")
    assert c.labels[0] == "UBND phường Ninh Kiều"
    await c.tap(c.values[0])
    await c.tap_label("Hài lòng")
    assert c.last[0].text == "Cảm ơn bạn đã đánh giá!"
    async with city.sessions() as s:
        response = (await s.scalars(select(FeedbackResponse))).one()
    assert response.kind == "service_point" and response.dossier_id is None


async def test_danhgia_offers_the_verified_dossier(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="w2")
    await c.say(f"/tracuu {CODE}")
    await c.say(OWNER_ID)
    await c.say("/danhgia")
    await c.tap_label(f"Hồ sơ {CODE}")
    await c.tap_label("Rất hài lòng")
    assert c.last[0].text == "Cảm ơn bạn đã đánh giá!"
    await c.say("/danhgia")
    await c.tap_label(f"Hồ sơ {CODE}")
    assert "đã đánh giá" in c.text
