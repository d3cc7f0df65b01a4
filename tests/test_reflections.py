"""Reflections (phản ánh, kiến nghị) through the dispatcher: from a low rating to the answer
and the verdict, forwarding, overdue escalation on a working-day calendar, who sees what,
masking, the daily limit, photos, and replies held for Zalo's window."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.domain.dossiers.workdays import CalendarDay, DayKind, WorkCalendar
from bot.domain.outbox_payload import payload_to_replies
from bot.domain.reflections.photos import PhotoError, clean_photo
from bot.domain.reflections.rules import ReflectionRules
from bot.messages import Channel, Incoming, IncomingFile
from bot.reflections.escalation import escalate_overdue
from handlers import texts_reflections as t
from handlers.context import Services
from storage.models import OutboxMessage, utcnow
from storage.models.admin import AuditLog
from storage.models.reflections import Reflection, ReflectionAttachment, ReflectionEvent
from storage.repositories import dossiers as repo
from storage.repositories import roles
from storage.repositories.zalo_oa import record_interaction
from tests.dossier_fixtures import CODE, OWNER_ID, TODAY, build_city
from tests.transcript import Conversation

WARD, OTHER_WARD, CITY = "000.00.12.H13", "000.00.13.H13", "000.00.00.H13"
STAFF_WARD, STAFF_OTHER, STAFF_CITY = "900100", "900200", "900300"
# A working-day fixture: Wednesday 21/01/2026 is a (made-up) holiday, and the deadline is
# 3 working days, so a reflection received on Monday 19/01 is due Friday 23/01.
HOLIDAY = date(2026, 1, 21)
CALENDAR = WorkCalendar.from_days([CalendarDay(HOLIDAY, DayKind.HOLIDAY, "test holiday")])
RULES = ReflectionRules(answer_workdays=3, daily_limit=2, max_photo_bytes=200_000)
DUE = date(2026, 1, 23)


@pytest.fixture
async def city(app: App) -> App:
    await build_city(app)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, CALENDAR, lambda: TODAY, RULES)
    async with app.sessions() as s, s.begin():
        for user_id, code in ((STAFF_WARD, WARD), (STAFF_OTHER, OTHER_WARD), (STAFF_CITY, CITY)):
            await roles.grant(
                s,
                user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, user_id),
                channel="telegram",
                user_id=user_id,
                role="staff",
                agency=await repo.agency_by_code(s, code),
                alerts=True,
            )
    return app


def staff(app: App, user_id: str) -> Conversation:
    return Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=user_id)


async def outbox_texts(app: App, chat_id: str) -> list[str]:
    async with app.sessions() as s:
        rows = await s.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return ["\n".join(r.text for r in payload_to_replies(row.payload)) for row in rows]


async def outbox_replies(app: App, chat_id: str) -> list[OutboxMessage]:
    async with app.sessions() as s:
        rows = await s.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return list(rows)


async def the_reflection(app: App) -> Reflection:
    async with app.sessions() as s:
        return (await s.scalars(select(Reflection))).one()


async def events(app: App) -> list[tuple[str, str]]:
    async with app.sessions() as s:
        rows = await s.scalars(select(ReflectionEvent).order_by(ReflectionEvent.id))
        return [(e.kind, e.note) for e in rows]


def photo_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (20, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "CameraMakerSecret"  # Make
    exif[0x0131] = "GpsTrackerSecret"  # Software: stands for any metadata text
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def a_dossier_reflection(app: App, chat_id: str = "555", name: str = "Trần Thị Bích") -> str:
    """A verified owner sends a reflection about the dossier; returns the reference."""
    c = Conversation(app.dispatcher, channel=Channel.WEB, chat_id=chat_id)
    await c.say(CODE)
    await c.say(OWNER_ID)
    await c.say("/phananh")
    await c.tap_label(f"Hồ sơ {CODE}")
    await c.send(
        Incoming(
            c.chat,
            f"text-{chat_id}",
            text="Nộp hồ sơ đã quá hạn mà chưa thấy kết quả, gọi 0912345678 không ai nghe",
            display_name=name,
        )
    )
    assert "Đã nhận phản ánh số" in c.text
    return c.text.split("số ", 1)[1].split(".", 1)[0]


# ------------------------------------------------------------------ the whole loop


async def test_a_dissatisfied_rating_becomes_a_reflection_answered_in_the_chat(
    city: App,
) -> None:
    """Telegram: rate "Không hài lòng", take the offer, describe, attach a photo, get the
    reference and deadline; the ward's staff answer; the reply arrives; the verdict, once."""
    c = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="555")
    await c.say(CODE)
    await c.say(OWNER_ID)
    await c.say("/danhgia")
    await c.tap_label(f"Hồ sơ {CODE}")
    await c.tap_label("Không hài lòng")
    assert c.last[0].text == "Cảm ơn bạn đã đánh giá!"
    assert c.last[-1].text == "Bạn có muốn gửi phản ánh để cơ quan trả lời không?"
    await c.tap_label("Gửi phản ánh")
    assert "Phản ánh gửi đến: UBND phường Ninh Kiều" in c.text
    await c.say("ngắn")
    assert c.text == t.TEXT_TOO_SHORT  # nothing lost: still writing
    await c.send(
        Incoming(
            c.chat,
            "desc",
            text="Cán bộ hẹn 3 lần chưa trả kết quả. SĐT tôi 0912 345 678, CCCD 079123456789.",
            display_name="Trần Thị Bích",
        )
    )
    assert "gửi kèm 1 ảnh" in c.text and "📨 Gửi luôn" in c.labels
    await c.send(
        Incoming(c.chat, "pic", file=IncomingFile("anh.jpg", photo_with_exif(), "image/jpeg"))
    )
    assert "Đã nhận phản ánh số PA-000001" in c.text
    assert "Hạn trả lời: 23/01/2026 (3 ngày làm việc)" in c.text  # the holiday skipped

    stored = await the_reflection(city)
    assert "0912" not in stored.text and "079123456789" not in stored.text
    assert stored.text.count("[số đã ẩn]") == 2
    assert stored.due_date == DUE and stored.agency_id is not None
    async with city.sessions() as s:
        photo = (await s.scalars(select(ReflectionAttachment))).one()
    assert b"CameraMakerSecret" not in photo.content
    assert b"GpsTrackerSecret" not in photo.content and photo.mime_type == "image/jpeg"
    assert dict(Image.open(io.BytesIO(photo.content)).getexif()) == {}

    # Staff of the ward were told (no name), and answer from /phananh.
    notes = await outbox_texts(city, STAFF_WARD)
    assert any("Phản ánh mới PA-000001" in n for n in notes)
    assert all("Bích" not in n for n in notes)
    ward = staff(city, STAFF_WARD)
    await ward.say("/phananh")
    assert ward.labels == ["PA-000001 · hạn 23/01/2026"]
    await ward.tap(ward.values[0])
    assert "Người gửi: Trần Thị Bích" in ward.text  # the handling agency sees the identity
    assert f"hồ sơ {CODE}" in ward.text and ward.last[0].image is not None
    await ward.tap_label("Trả lời")
    await ward.say("Chúng tôi xin lỗi. Kết quả đã có, mời bạn nhận tại bộ phận một cửa.")
    assert ward.text == "Đã gửi câu trả lời phản ánh PA-000001 cho người dân."

    (reply,) = [r for r in await outbox_replies(city, "555") if "pakn" in r.dedupe_key]
    assert reply.channel == "telegram"
    delivered = payload_to_replies(reply.payload)
    assert "Trả lời phản ánh PA-000001 của UBND phường Ninh Kiều" in delivered[0].text
    assert "Kết quả đã có" in delivered[0].text
    c.last = delivered  # what the citizen sees in the chat
    resolved, unresolved = c.values
    await c.tap(resolved)
    assert c.text == t.VERDICT_THANKS
    await c.tap(unresolved)  # only once
    assert c.text == t.VERDICT_ALREADY
    assert (await the_reflection(city)).resolved is True
    assert [k for k, _ in await events(city)] == ["received", "answered", "verdict"]
    async with city.sessions() as s:
        actions = [a.action for a in await s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["reflection.list", "reflection.view", "reflection.answered"]
    await ward.say("/phananh")
    assert ward.text == t.LIST_EMPTY


async def test_a_low_survey_score_and_an_unhelpful_answer_offer_a_reflection(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="w9")
    await c.say("/danhgia")
    await c.tap_label("Nơi làm thủ tục")
    await c.say("phuong ninh kieu")
    await c.tap(c.values[0])
    await c.tap_label("🙂 Hài lòng")
    assert t.OFFER not in c.text  # satisfied: no offer
    await c.tap_label("Đồng ý")
    for label in ("4 · Hài lòng", "2 · Không hài lòng", "5 ·", "5 ·", "5 ·"):
        await c.tap_label(label)
    await c.tap_label("Bỏ qua")  # no comment: the survey ends
    assert c.last[-1].text == t.OFFER
    await c.tap_label("Gửi phản ánh")
    assert "Phản ánh gửi đến: UBND phường Ninh Kiều" in c.text

    await c.say("/start")
    await c.say("ho so tctn gom nhung gi")
    await c.tap_label("👎")
    assert c.last[-1].text == t.OFFER
    await c.tap_label("Gửi phản ánh")
    assert "Phản ánh gửi đến: UBND thành phố Cần Thơ" in c.text  # the assistant is the city's
    await c.say("Câu trả lời về trợ cấp thất nghiệp thiếu mẫu đơn mới nhất.")
    assert "Đã nhận phản ánh số" in c.text  # the web chat takes no photo: sent at once
    reflection = await the_reflection(city)
    assert reflection.subject == "assistant" and reflection.message_id is not None


# ------------------------------------------------------------------ forwarding


async def test_forwarding_between_agencies(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="w1")
    await c.say("/phananh")
    assert t.LOOKUP_FOR_DOSSIER in c.text  # no verified dossier in this chat
    await c.tap_label("Nơi làm thủ tục")
    await c.say("ninh kieu")
    await c.tap(c.values[0])
    await c.say("Bãi giữ xe trước trụ sở thu tiền quá quy định.")
    ward, other = staff(city, STAFF_WARD), staff(city, STAFF_OTHER)
    await other.say("/phananh")
    assert other.text == t.LIST_EMPTY
    await ward.say("/phananh")
    await ward.tap(ward.values[0])
    await ward.tap_label("Chuyển cơ quan khác")
    await ward.say("cai khe")
    assert ward.labels[0] == "UBND phường Cái Khế"
    await ward.tap(ward.values[0])
    await ward.say("ok")
    assert ward.text == t.REASON_TOO_SHORT
    await ward.say("Bãi xe thuộc địa bàn phường Cái Khế")
    assert ward.text == "Đã chuyển phản ánh PA-000001 đến UBND phường Cái Khế."

    await ward.say("/phananh")
    assert ward.text == t.LIST_EMPTY  # no longer theirs
    assert any("Phản ánh mới PA-000001" in n for n in await outbox_texts(city, STAFF_OTHER))
    assert any(
        "đã được chuyển đến UBND phường Cái Khế" in n for n in await outbox_texts(city, "w1")
    )
    await other.say("/phananh")
    await other.tap(other.values[0])
    assert "Cơ quan giải quyết: UBND phường Cái Khế" in other.text
    await other.tap_label("Không thuộc thẩm quyền")
    await other.say("Bãi xe do doanh nghiệp tư nhân quản lý, bạn liên hệ Ban quản lý chợ.")
    assert "Đã đóng phản ánh PA-000001" in other.text
    closing = (await outbox_texts(city, "w1"))[-1]
    assert "không thuộc thẩm quyền" in closing and "Ban quản lý chợ" in closing
    kinds = [k for k, _ in await events(city)]
    assert kinds == ["received", "forwarded", "closed"]
    reflection = await the_reflection(city)
    assert reflection.status == "not_in_scope" and reflection.handled_date == TODAY


async def test_a_dossier_reflection_goes_only_where_the_dossier_may_be_seen(city: App) -> None:
    ref = await a_dossier_reflection(city)
    ward = staff(city, STAFF_WARD)
    await ward.say("/phananh")
    await ward.tap(ward.values[0])
    await ward.tap_label("Chuyển cơ quan khác")
    await ward.say("cai khe")
    await ward.tap_label("Cái Khế")
    assert ward.text == t.TARGET_NOT_ALLOWED  # Cái Khế has nothing to do with the dossier
    await ward.say(CITY)  # the code of the city
    await ward.tap_label("thành phố")
    await ward.say("Cần sở, ngành xem xét")
    assert ward.text == f"Đã chuyển phản ánh {ref} đến UBND thành phố Cần Thơ."
    city_staff = staff(city, STAFF_CITY)
    await city_staff.say("/phananh")
    await city_staff.tap(city_staff.values[0])
    assert "Người gửi: Trần Thị Bích" in city_staff.text  # now the handling agency


# ------------------------------------------------------------------ permissions and masking


async def test_a_foreign_agencys_staff_and_other_citizens_see_nothing(city: App) -> None:
    ref = await a_dossier_reflection(city)
    reflection = await the_reflection(city)
    other = staff(city, STAFF_OTHER)
    await other.say("/phananh")
    assert other.text == t.LIST_EMPTY
    for action in ("v", "a", "f", "n"):
        await other.tap(f"ps:{action}:{reflection.id}")
        assert other.text == t.GONE
    await other.tap(f"ps:t:{reflection.id}:1")
    assert other.text == t.GONE
    assert not [n for n in await outbox_texts(city, STAFF_OTHER) if ref in n]

    # The city's staff see it, above the ward, but the citizen's name only masked.
    city_staff = staff(city, STAFF_CITY)
    await city_staff.say("/phananh")
    await city_staff.tap(city_staff.values[0])
    assert "Người gửi: Trần T. B." in city_staff.text and "Bích" not in city_staff.text

    citizen = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="777")
    await citizen.tap(f"ps:v:{reflection.id}")  # a staff button does not exist for citizens
    assert "đã cũ" in citizen.text
    await citizen.tap(f"pv:{reflection.id}:1")  # nor someone else's verdict
    assert "đã cũ" in citizen.text
    await citizen.say("/phananh")
    assert t.WHAT_ABOUT in citizen.text  # a citizen's /phananh starts their own


async def test_the_daily_limit_per_person(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="w5")
    for n in range(2):
        await c.say("/phananh")
        await c.tap_label("Câu trả lời của trợ lý")
        await c.say(f"Câu trả lời số {n} về hộ tịch chưa đúng thực tế.")
        assert "Đã nhận phản ánh số" in c.text
    await c.say("/phananh")
    assert "Hôm nay bạn đã gửi 2 phản ánh" in c.text
    async with city.sessions() as s:
        assert len(list(await s.scalars(select(Reflection)))) == 2


async def test_photos_images_only_within_the_limit() -> None:
    with pytest.raises(PhotoError) as too_big:
        clean_photo(b"x" * 300, max_bytes=200)
    assert too_big.value.reason == "size"
    with pytest.raises(PhotoError) as not_image:
        clean_photo(b"%PDF-1.4 a document", max_bytes=10_000)
    assert not_image.value.reason == "unreadable"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(PhotoError) as gif_refused:
        clean_photo(gif.getvalue(), max_bytes=10_000)
    assert gif_refused.value.reason == "format"
    clean = clean_photo(photo_with_exif(), max_bytes=200_000)
    assert (clean.width, clean.height) == (64, 48) and b"CameraMakerSecret" not in clean.content


async def test_a_refused_photo_loses_nothing(city: App) -> None:
    c = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="556")
    await c.say("/phananh")
    await c.tap_label("Câu trả lời của trợ lý")
    await c.send(Incoming(c.chat, "sticker", unsupported="sticker"))
    assert c.text == t.TEXT_ONLY  # still writing
    await c.say("Trợ lý trả lời sai địa chỉ nộp hồ sơ hộ tịch.")
    await c.send(Incoming(c.chat, "compressed", unsupported="photo"))
    assert c.text == t.PHOTO_AS_FILE  # Telegram's compressed photos are not downloaded
    await c.send(
        Incoming(c.chat, "pdf", file=IncomingFile("a.pdf", b"%PDF-1.4", "application/pdf"))
    )
    assert "không đọc được ảnh" in c.text and "📨 Gửi luôn" in c.labels
    await c.tap_label("Gửi luôn")
    assert "Đã nhận phản ánh số" in c.text
    assert "sai địa chỉ" in (await the_reflection(city)).text


# ------------------------------------------------------------------ overdue escalation


async def test_an_overdue_reflection_is_flagged_and_escalated_to_the_parent_once(
    city: App,
) -> None:
    ref = await a_dossier_reflection(city)
    async with city.sessions() as s, s.begin():
        assert await escalate_overdue(s, DUE) == 0  # the due date itself is still in time
    ward = staff(city, STAFF_WARD)
    await ward.say("/phananh")
    assert ward.labels == [f"{ref} · hạn 23/01/2026"]

    old = city.dispatcher.services
    city.dispatcher.services = Services(
        old.secret, CALENDAR, lambda: DUE + timedelta(days=1), RULES
    )
    await city.reflection_escalation().run_once()
    await city.reflection_escalation().run_once()  # a second pass changes nothing
    (note,) = [n for n in await outbox_texts(city, STAFF_CITY) if "quá hạn" in n]
    assert f"Phản ánh {ref} quá hạn trả lời" in note and "UBND phường Ninh Kiều" in note
    assert not [n for n in await outbox_texts(city, STAFF_WARD) if "quá hạn" in n]
    assert not [n for n in await outbox_texts(city, STAFF_OTHER) if "quá hạn" in n]
    await ward.say("/phananh")
    assert ward.labels == [f"⏰ {ref} · hạn 23/01/2026"]
    await ward.tap(ward.values[0])
    assert t.OVERDUE_FLAG in ward.text
    assert [k for k, _ in await events(city)] == ["received", "escalated"]
    async with city.sessions() as s:
        actions = [a.action for a in await s.scalars(select(AuditLog))]
    assert actions.count("reflection.escalate") == 1


# ------------------------------------------------------------------ Zalo's window


async def test_a_reply_waits_for_zalos_window_and_staff_are_told(city: App) -> None:
    citizen = Conversation(city.dispatcher, channel=Channel.ZALO_OA, chat_id="zl-1")
    long_ago = utcnow() - timedelta(days=10)
    async with city.sessions() as s, s.begin():
        await record_interaction(s, "oa-1", "zl-1", long_ago)
    await citizen.say("/phananh")
    await citizen.tap_label("Câu trả lời của trợ lý")
    await citizen.say("Trợ lý chỉ sai nơi nộp hồ sơ đăng ký kết hôn.")
    city_staff = staff(city, STAFF_CITY)
    await city_staff.say("/phananh")
    await city_staff.tap(city_staff.values[0])
    await city_staff.tap_label("Trả lời")
    await city_staff.say("Cảm ơn bạn, chúng tôi đã sửa câu trả lời.")
    assert "Zalo chưa cho gửi" in city_staff.text
    assert await outbox_texts(city, "zl-1") == []
    assert (await the_reflection(city)).reply_held

    async with city.sessions() as s, s.begin():  # the citizen writes again (as the OA records)
        await record_interaction(s, "oa-1", "zl-1", utcnow())
    await citizen.say("xin chào")
    (queued,) = await outbox_texts(city, "zl-1")
    assert "chúng tôi đã sửa câu trả lời" in queued and t.ASK_VERDICT in queued
    assert not (await the_reflection(city)).reply_held
    await citizen.say("cảm ơn")  # nothing queued twice
    assert len(await outbox_texts(city, "zl-1")) == 1
    assert [k for k, _ in await events(city)] == ["received", "answered", "held", "released"]


async def test_forgetting_a_citizen_erases_their_reflections_but_keeps_the_counts(
    city: App,
) -> None:
    from storage.repositories import retention

    c = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="558")
    await c.say("/phananh")
    await c.tap_label("Câu trả lời của trợ lý")
    await c.send(
        Incoming(c.chat, "d", text="Trợ lý trả lời sai lệ phí cấp đổi CCCD.", display_name="Lê B")
    )
    await c.send(Incoming(c.chat, "p", file=IncomingFile("a.jpg", photo_with_exif(), "image/jpeg")))
    user_hash = city.dispatcher.user_hash_of(Channel.TELEGRAM, "558")
    async with city.sessions() as s, s.begin():
        done = await retention.forget(s, channel="telegram", user_id="558", user_hash=user_hash)
    assert (done["reflections"], done["reflection_photos"]) == (1, 1)
    reflection = await the_reflection(city)
    assert reflection.display_name == "" and reflection.chat_id == ""
    assert "lệ phí" not in reflection.text and reflection.user_hash == retention.FORGOTTEN
    assert reflection.status == "open" and reflection.due_date == DUE  # still counted


async def test_the_daily_limit_counts_the_day_in_vietnam_time(city: App) -> None:
    """One sent at 00:30 on 19/01 in Vietnam (17:30 UTC the day before) counts for the 19th;
    one sent at 23:30 on the 18th does not."""
    from datetime import UTC, datetime

    from bot.domain.vietnam_time import VN_TZ

    user_hash = city.dispatcher.user_hash_of(Channel.WEB, "w7")
    async with city.sessions() as s, s.begin():
        agency = await repo.agency_by_code(s, WARD)
        assert agency is not None
        for moment in (datetime(2026, 1, 18, 23, 30), datetime(2026, 1, 19, 0, 30)):
            s.add(
                Reflection(
                    created_at=moment.replace(tzinfo=VN_TZ).astimezone(UTC),  # as utcnow()
                    received_date=moment.date(),
                    due_date=DUE,
                    subject="place",
                    agency_id=agency.id,
                    channel="web",
                    chat_id="w7",
                    user_hash=user_hash,
                    text="…",
                )
            )
    c = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="w7")
    await c.say("/phananh")
    await c.tap_label("Câu trả lời của trợ lý")
    await c.say("Câu trả lời về lệ phí hộ tịch chưa cập nhật.")
    assert "Đã nhận phản ánh số" in c.text  # the second of the 19th
    await c.say("/phananh")
    assert "Hôm nay bạn đã gửi 2 phản ánh" in c.text


async def test_at_the_root_an_overdue_reflection_goes_to_the_admins(city: App) -> None:
    async with city.sessions() as s, s.begin():
        await roles.grant(
            s,
            user_hash=city.dispatcher.user_hash_of(Channel.TELEGRAM, "910000"),
            channel="telegram",
            user_id="910000",
            role="admin",
            agency=None,
        )
    c = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="w8")
    await c.say("/phananh")
    await c.tap_label("Câu trả lời của trợ lý")  # the city's, the root of the tree
    await c.say("Trợ lý không trả lời được câu hỏi về cấp đổi giấy phép lái xe.")
    async with city.sessions() as s, s.begin():
        assert await escalate_overdue(s, DUE + timedelta(days=3)) == 1
    (note,) = await outbox_texts(city, "910000")
    assert "quá hạn trả lời" in note and "UBND thành phố Cần Thơ" in note
    assert not [n for n in await outbox_texts(city, STAFF_CITY) if "quá hạn" in n]
