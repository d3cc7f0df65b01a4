"""Reflections end to end on real channels: the web chat over HTTP (the reply collected by the
page's polling) and Telegram against the fake Bot API (the reply sent by the outbox worker),
each from a "Không hài lòng" rating to the agency's answer and the citizen's verdict."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.messages import Channel
from bot.server import make_web_app
from handlers import texts_reflections as t
from handlers.context import Services
from storage.models.reflections import Reflection, ReflectionAttachment
from storage.repositories import dossiers as repo
from storage.repositories import roles
from tests.conftest import make_settings
from tests.dossier_fixtures import CODE, OWNER_ID, TODAY, build_city
from tests.fake_telegram import FakeTelegram
from tests.test_telegram import FAST, TOKEN, Citizen, by_polling
from tests.transcript import Conversation

STAFF_ID = 900100


async def grant_ward_staff(app: App, user_id: str) -> None:
    async with app.sessions() as s, s.begin():
        await roles.grant(
            s,
            user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, user_id),
            channel="telegram",
            user_id=user_id,
            role="staff",
            agency=await repo.agency_by_code(s, "000.00.12.H13"),
        )


def fixed_today(app: App) -> None:
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: TODAY, old.reflections)


# ------------------------------------------------------------------ web chat over HTTP


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    await build_city(app)
    fixed_today(app)
    await grant_ward_staff(app, str(STAFF_ID))
    async with TestClient(TestServer(make_web_app(app))) as c:
        yield c


async def post(client: TestClient, session: str | None, **body: str) -> dict[str, Any]:  # type: ignore[type-arg]
    if session:
        body["session"] = session
    resp = await client.post("/api/chat", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


def choice(answer: dict[str, Any], fragment: str) -> str:
    for reply in answer["replies"]:
        for c in reply["choices"]:
            if fragment in c["label"]:
                return str(c["value"])
    raise AssertionError(f"no {fragment!r} in {answer}")


def texts(answer: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in answer["replies"])


async def test_web_from_a_low_rating_to_the_answer_and_the_verdict(
    client: TestClient,  # type: ignore[type-arg]
    app: App,
) -> None:
    first = await post(client, None, text=CODE)
    session = first["session"]
    await post(client, session, text=OWNER_ID)
    menu = await post(client, session, text="/danhgia")
    rating = await post(client, session, choice=choice(menu, f"Hồ sơ {CODE}"))
    offer = await post(client, session, choice=choice(rating, "Không hài lòng"))
    assert offer["replies"][-1]["text"] == t.OFFER
    prompt = await post(client, session, choice=choice(offer, "Gửi phản ánh"))
    assert "Phản ánh gửi đến: UBND phường Ninh Kiều" in texts(prompt)
    done = await post(client, session, text="Hẹn trả kết quả 3 lần vẫn chưa có, gọi 0912345678.")
    assert "Đã nhận phản ánh số PA-000001" in texts(done)  # no photo step on the web
    assert "Hạn trả lời:" in texts(done)

    staff = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=str(STAFF_ID))
    await staff.say("/phananh")
    await staff.tap(staff.values[0])
    assert "[số đã ẩn]" in staff.text and "0912345678" not in staff.text
    await staff.tap_label("Trả lời")
    await staff.say("Kết quả đã có từ ngày 20/01, mời bạn nhận tại bộ phận một cửa.")
    assert staff.text == "Đã gửi câu trả lời phản ánh PA-000001 cho người dân."

    resp = await client.get("/api/chat/updates", headers={"X-Session-Token": session})
    updates = await resp.json()
    assert "Trả lời phản ánh PA-000001 của UBND phường Ninh Kiều" in texts(updates)
    verdict = await post(client, session, choice=choice(updates, "Chưa giải quyết"))
    assert "chưa giải quyết" in texts(verdict)
    again = await post(client, session, choice=choice(updates, "Đã giải quyết"))
    assert texts(again) == t.VERDICT_ALREADY
    empty = await (
        await client.get("/api/chat/updates", headers={"X-Session-Token": session})
    ).json()
    assert empty["replies"] == []  # delivered once
    async with app.sessions() as s:
        reflection = (await s.scalars(select(Reflection))).one()
    assert reflection.channel == "web" and reflection.resolved is False


# ------------------------------------------------------------------ Telegram (fake Bot API)


@asynccontextmanager
async def telegram_city(tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[App]:
    from storage import migrate

    url = f"sqlite+aiosqlite:///{tmp_path / 'telegram-pakn.db'}"
    await migrate.upgrade_async(url)
    settings = make_settings(
        url,
        tmp_path,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.base_url,
        outbox_interval_seconds=0.05,
        kb_dir=tmp_path / "no-knowledge",
    )
    (tmp_path / "no-knowledge").mkdir(exist_ok=True)
    app = App.build(settings)
    assert app.telegram is not None
    app.telegram.tuning = FAST
    await app.start(migrate_db=False, watch=False, channels=True)
    try:
        await build_city(app)
        fixed_today(app)
        await grant_ward_staff(app, str(STAFF_ID))
        yield app
    finally:
        await app.close()


async def wait_for_message(fake: FakeTelegram, chat_id: int, fragment: str) -> list[Any]:
    for _ in range(200):
        messages = fake.messages(chat_id)
        if any(fragment in (m.get("text") or "") for m in messages):
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"{fragment!r} never reached chat {chat_id}")


async def test_telegram_from_a_low_rating_to_the_answer_and_the_verdict(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN) as fake, telegram_city(tmp_path, fake) as app:
        channel = app.telegram
        assert channel is not None and await channel.wait_ready()
        citizen = Citizen(fake, channel, by_polling(fake))
        await citizen.say(CODE)
        await citizen.say(OWNER_ID)
        await citizen.say("/danhgia")
        await citizen.tap(f"Hồ sơ {CODE}")
        await citizen.tap("Không hài lòng")
        assert citizen.last[-1]["text"] == t.OFFER
        await citizen.tap("Gửi phản ánh")
        await citizen.say("Cán bộ hẹn nhiều lần chưa trả kết quả, tôi gửi ảnh giấy hẹn.")
        assert "gửi kèm 1 ảnh" in citizen.text
        picture = io.BytesIO()
        exif = Image.Exif()
        exif[0x010F] = "PhoneMakerSecret"
        Image.new("RGB", (80, 60), (200, 200, 40)).save(picture, "JPEG", exif=exif.tobytes())
        fake.add_file("img-1", picture.getvalue())
        document = {
            "file_id": "img-1",
            "file_unique_id": "i1",
            "file_name": "giay-hen.jpg",
            "mime_type": "image/jpeg",
            "file_size": len(picture.getvalue()),
        }
        await citizen.say(None, document=document)
        assert "Đã nhận phản ánh số PA-000001" in citizen.text

        staff = Citizen(fake, channel, by_polling(fake), chat_id=STAFF_ID)
        await staff.say("/phananh")
        await staff.tap("PA-000001")
        assert "Người gửi: Lan" in staff.text  # Telegram's name, to the handling agency
        assert fake.calls_of("sendPhoto", STAFF_ID)  # the cleaned photo
        await staff.tap("Trả lời")
        await staff.say("Chúng tôi xin lỗi, kết quả đã có. Mời bạn nhận tại bộ phận một cửa.")
        assert "Đã gửi câu trả lời phản ánh PA-000001" in staff.text

        # The answer and the question after it are two messages sent one after the other:
        # wait for the second (waiting for the first alone raced with the second's sending).
        messages = await wait_for_message(fake, citizen.chat_id, t.ASK_VERDICT)
        citizen.last = messages[-2:]
        assert "Trả lời phản ánh PA-000001" in citizen.last[0]["text"]
        assert citizen.last[-1]["text"] == t.ASK_VERDICT
        await citizen.tap("Đã giải quyết")
        assert citizen.text == t.VERDICT_THANKS
        async with app.sessions() as s:
            reflection = (await s.scalars(select(Reflection))).one()
            photo = (await s.scalars(select(ReflectionAttachment))).one()
        assert reflection.resolved is True and reflection.channel == "telegram"
        assert b"PhoneMakerSecret" not in photo.content
