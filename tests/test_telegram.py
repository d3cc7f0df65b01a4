"""The Telegram channel end to end: the real python-telegram-bot client, our adapter, the
dispatcher and a real database, against a fake Bot API server on loopback
(``tests/fake_telegram.py``). Transcripts run through long polling and through the webhook.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import func, select

import storage.models.channels  # noqa: F401  (registers channel_recipients on Base.metadata)
from bot.app import App
from bot.channels.telegram import (
    MAX_TEXT_CHARS,
    SECRET_HEADER,
    WEBHOOK_PATH,
    OutgoingLimiter,
    TelegramChannel,
    Tuning,
    button_label,
    check_callback_data,
    render,
    split_text,
)
from bot.messages import Attachment, Choice, Reply
from bot.server import make_web_app
from handlers import texts
from knowledge.entry import Entry
from storage import migrate
from storage.db import create_engine
from storage.models import Base, ProcessedEvent
from storage.models.channels import ChannelRecipient
from storage.repositories import kb as kb_repo
from tests.conftest import make_settings
from tests.fake_telegram import FakeTelegram

TOKEN = "7654321:AAH-fake-token_for_the_tests-0123456789"
WEBHOOK_URL = "https://motcua.example.vn/telegram/webhook"
WEBHOOK_SECRET = "s3cret-for_the-webhook"
CITIZEN = 424242
NEIGHBOUR = 515151
GROUP = -100777
FAST = Tuning(
    poll_timeout=5,
    typing_after=0.0,
    per_chat_per_second=50,
    per_chat_burst=20,
    backoff_base=0.05,
    backoff_max=0.2,
    ready_timeout=5,
    drain_timeout=5,
)

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


# ---------------------------------------------------------------- harness


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'telegram.db'}"
    await migrate.upgrade_async(url)
    return url


@asynccontextmanager
async def telegram_app(
    database_url: str,
    tmp_path: Path,
    fake: FakeTelegram,
    *,
    webhook: bool = False,
    token: str = TOKEN,
    tuning: Tuning = FAST,
    knowledge: bool = True,
) -> AsyncIterator[App]:
    """A started app on the fake; ``knowledge=False`` skips the bundled base (starts faster)."""
    overrides: dict[str, object] = {
        "telegram_bot_token": token,
        "telegram_api_base_url": fake.base_url,
    }
    if not knowledge:
        overrides["kb_dir"] = tmp_path / "no-knowledge"
        (tmp_path / "no-knowledge").mkdir(exist_ok=True)
    if webhook:
        overrides["telegram_webhook_url"] = WEBHOOK_URL
        overrides["telegram_webhook_secret"] = WEBHOOK_SECRET
    app = App.build(make_settings(database_url, tmp_path, **overrides))
    assert app.telegram is not None
    app.telegram.tuning = tuning
    await app.start(migrate_db=False, watch=False, channels=True)
    try:
        yield app
    finally:
        await app.close()


def by_polling(fake: FakeTelegram) -> Deliver:
    async def deliver(update: dict[str, Any]) -> None:
        await fake.enqueue(update)
        await fake.wait_confirmed(update["update_id"])

    return deliver


def by_webhook(client: TestClient) -> Deliver:
    async def deliver(update: dict[str, Any]) -> None:
        resp = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert resp.status == 200, await resp.text()

    return deliver


@dataclass
class Citizen:
    """One Telegram user chatting with the bot: say something, read what came back, tap."""

    fake: FakeTelegram
    channel: TelegramChannel
    deliver: Deliver
    chat_id: int = CITIZEN
    last: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.fake.messages(self.chat_id))
        await self.deliver(update)
        await self.channel.drain()
        self.last = self.fake.messages(self.chat_id)[before:]
        return self.last

    async def say(self, text: str | None, **fields: Any) -> list[dict[str, Any]]:
        user = {"user_id": CITIZEN} if self.chat_id < 0 else {}
        return await self.send(self.fake.message_update(self.chat_id, text, **user, **fields))

    async def tap(self, fragment: str) -> list[dict[str, Any]]:
        """Tap the button whose label contains ``fragment`` in the latest replies."""
        for message in reversed(self.last):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if fragment in button["text"]:
                        return await self.tap_data(button["callback_data"], message)
        raise AssertionError(f"no button with {fragment!r} in {self.labels}")

    async def tap_data(self, data: str, message: dict[str, Any]) -> list[dict[str, Any]]:
        return await self.send(self.fake.callback_update(self.chat_id, data, message=message))

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or m.get("caption") or "" for m in self.last)

    @property
    def labels(self) -> list[str]:
        return [
            button["text"]
            for m in self.last
            for row in m.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]


@asynccontextmanager
async def connected(
    database_url: str, tmp_path: Path, fake: FakeTelegram, mode: str, *, knowledge: bool = True
) -> AsyncIterator[tuple[App, Citizen]]:
    async with telegram_app(
        database_url, tmp_path, fake, webhook=mode == "webhook", knowledge=knowledge
    ) as app:
        channel = app.telegram
        assert channel is not None
        assert await channel.wait_ready()
        if mode == "polling":
            yield app, Citizen(fake, channel, by_polling(fake))
            return
        async with TestClient(TestServer(make_web_app(app))) as client:
            yield app, Citizen(fake, channel, by_webhook(client))


async def unreachable_rows(app: App) -> dict[str, ChannelRecipient]:
    async with app.sessions() as session:
        rows = await session.scalars(select(ChannelRecipient))
        return {r.chat_id: r for r in rows}


PHOTO = [{"file_id": "ph-1", "file_unique_id": "ph1", "width": 640, "height": 480}]


# ---------------------------------------------------------------- transcripts


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_citizen_asks_taps_and_sends_a_photo(
    database_url: str, tmp_path: Path, fake: FakeTelegram, mode: str
) -> None:
    async with connected(database_url, tmp_path, fake, mode) as (_, citizen):
        await citizen.say("/start")
        assert "Xin chào" in citizen.last[0]["text"]
        assert citizen.last[-1]["text"] == texts.MENU_PROMPT
        assert citizen.labels == [
            texts.MENU_ASK,
            texts.MENU_BROWSE,
            texts.MENU_DOSSIER,
            texts.MENU_RATE,
            texts.MENU_HELP,
        ]
        menu = citizen.last[-1]

        await citizen.say("ho so tctn gom nhung gi")
        assert "Mẫu số 10" in citizen.last[0]["text"]
        assert citizen.fake.calls_of("sendChatAction", CITIZEN)[-1].params["action"] == "typing"
        assert texts.RELATED in citizen.text
        related = citizen.last[1]["reply_markup"]["inline_keyboard"][0][0]["text"]

        await citizen.tap(related)  # a related question
        assert citizen.last[-1]["text"] == texts.WAS_IT_HELPFUL
        assert len(citizen.last[0]["text"]) > 50

        await citizen.tap("👍 Có")
        assert citizen.last[0]["text"] == texts.THANKS_HELPFUL
        assert "đỡ phải đi lại" in citizen.last[1]["text"]  # and did it save a trip?

        # A button of an old message, for an entry the knowledge base no longer has.
        await citizen.tap_data("e:0000000000", menu)
        assert texts.STALE_CHOICE in citizen.text
        assert texts.MENU_ASK in citizen.labels

        await citizen.say(None, photo=PHOTO, caption="giấy tờ của tôi đây")
        assert citizen.text == texts.UNSUPPORTED

        # Every tap was answered, each once.
        answered = [c.params["callback_query_id"] for c in fake.calls_of("answerCallbackQuery")]
        assert len(answered) == len(set(answered)) == 3
        sends = fake.calls_of("sendMessage", CITIZEN)
        assert sends
        assert all(c.params["parse_mode"] == "HTML" for c in sends)


async def test_an_overlong_answer_is_split_at_paragraph_boundaries(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    paragraphs = [
        f"Bước {i}: " + " ".join(f"nội dung hướng dẫn số {i}.{j} cho người dân" for j in range(12))
        for i in range(1, 14)
    ]
    paragraphs[3] += " Lưu ý: phí < 50.000 đồng & nộp tại <Bộ phận Một cửa>."
    answer = "\n\n".join(paragraphs)
    assert 6000 <= len(answer) <= 7000
    question = "Quy trình thử nghiệm kênh Telegram với câu trả lời rất dài gồm những bước nào?"
    entry = Entry(
        id="thu-nghiem/cau-tra-loi-rat-dai", category="Thử nghiệm", question=question, answer=answer
    )
    async with connected(sqlite_url, tmp_path, fake, "polling") as (app, citizen):
        async with app.sessions() as session, session.begin():
            await kb_repo.apply_import(session, [entry], replace=False)
        await app.knowledge.refresh()

        await citizen.say(question)
        parts = [m["text"] for m in citizen.last[:2]]
        assert citizen.last[2]["text"] in (texts.RELATED, texts.WAS_IT_HELPFUL)
        assert all(len(p) <= MAX_TEXT_CHARS for p in parts)
        assert "\n\n".join(parts) == answer  # nothing lost, cut between paragraphs only
        assert all(set(p.split("\n\n")) <= set(paragraphs) for p in parts)
        sent_html = " ".join(c.params["text"] for c in fake.calls_of("sendMessage", CITIZEN))
        assert "phí &lt; 50.000 đồng &amp; nộp tại &lt;Bộ phận Một cửa&gt;" in sent_html


async def test_a_forged_webhook_is_refused_and_nothing_is_processed(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with (
        telegram_app(sqlite_url, tmp_path, fake, webhook=True, knowledge=False) as app,
        TestClient(TestServer(make_web_app(app))) as client,
    ):
        assert app.telegram is not None
        assert await app.telegram.wait_ready()
        update = fake.message_update(CITIZEN, "/start")
        for headers in ({}, {SECRET_HEADER: "guessed"}, {SECRET_HEADER: WEBHOOK_SECRET + "x"}):
            resp = await client.post(WEBHOOK_PATH, json=update, headers=headers)
            assert resp.status == 401
            assert "error" in await resp.json()
        await app.telegram.drain()
        assert fake.calls_of("sendMessage") == []
        async with app.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0

        # The genuine delivery of the same update still goes through.
        await by_webhook(client)(update)
        await app.telegram.drain()
        assert "Xin chào" in fake.messages(CITIZEN)[0]["text"]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_the_same_update_delivered_twice_is_processed_once(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram, mode: str
) -> None:
    async with connected(sqlite_url, tmp_path, fake, mode, knowledge=False) as (_, citizen):
        update = fake.message_update(CITIZEN, "/start")
        if mode == "webhook":
            await citizen.send(update)
            await citizen.send(update)  # Telegram retries a webhook it thinks failed
        else:
            await fake.enqueue(update, update)
            await fake.wait_confirmed(update["update_id"])
            await citizen.channel.drain()
        greetings = [m for m in fake.messages(CITIZEN) if "Xin chào" in m["text"]]
        assert len(greetings) == 1
        tap = fake.callback_update(CITIZEN, "m:help", message=fake.messages(CITIZEN)[-1])
        await citizen.send(tap)
        await citizen.send(tap)
        assert len([m for m in fake.messages(CITIZEN) if "Cách dùng" in m["text"]]) == 1


async def test_a_polled_batch_keeps_each_chats_order(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(sqlite_url, tmp_path, fake, "polling", knowledge=False) as (_, citizen):
        fake.add_file("doc-1", b"%PDF-1.4")
        fake.slow("getFile", 0.3)  # the first update takes long before it reaches the dispatcher
        document = {"file_id": "doc-1", "file_unique_id": "d", "file_name": "a.pdf", "file_size": 8}
        batch = [
            fake.message_update(CITIZEN, None, document=document),
            fake.message_update(NEIGHBOUR, "/start"),
            fake.message_update(CITIZEN, "/menu"),
            fake.message_update(CITIZEN, "/help"),
        ]
        await fake.enqueue(*batch)
        await fake.wait_confirmed(batch[-1]["update_id"])
        await citizen.channel.drain()
        texts_sent = [m["text"] for m in fake.messages(CITIZEN)]
        assert texts_sent[0] == texts.FILE_NOT_ACCEPTED
        assert texts_sent[1] == texts.MENU_PROMPT
        assert texts_sent[2].startswith("Cách dùng")
        # Another chat did not wait for the slow one.
        assert "Xin chào" in fake.messages(NEIGHBOUR)[0]["text"]
        neighbour_first = fake.calls_of("sendMessage", NEIGHBOUR)[0].at
        assert neighbour_first < fake.calls_of("sendMessage", CITIZEN)[0].at


# ---------------------------------------------------------------- faults and limits


async def test_flood_control_waits_the_retry_after_telegram_gives(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(sqlite_url, tmp_path, fake, "polling", knowledge=False) as (_, citizen):
        fake.fail("sendMessage", 429, retry_after=1, chat_id=CITIZEN)
        await citizen.say("/start")
        calls = fake.calls_of("sendMessage", CITIZEN)
        assert [c.status for c in calls] == [429, 200, 200]
        assert calls[1].at - calls[0].at >= 1.0
        assert [m["text"] for m in citizen.last][-1] == texts.MENU_PROMPT
        assert len(citizen.last) == 2


async def test_network_errors_and_server_errors_are_retried_with_backoff(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(sqlite_url, tmp_path, fake, "polling", knowledge=False) as (_, citizen):
        fake.fail("sendMessage", 502, times=2)
        fake.fail("answerCallbackQuery", 500, times=1)
        await citizen.say("/start")
        calls = fake.calls_of("sendMessage", CITIZEN)
        assert [c.status for c in calls] == [502, 502, 200, 200]
        first_wait, second_wait = calls[1].at - calls[0].at, calls[2].at - calls[1].at
        assert first_wait >= FAST.backoff_base
        assert second_wait >= 2 * FAST.backoff_base
        assert len(citizen.last) == 2
        await citizen.tap("Hướng dẫn")
        assert [c.status for c in fake.calls_of("answerCallbackQuery")] == [500, 200]
        assert "Cách dùng" in citizen.text


async def test_a_citizen_who_blocked_the_bot_is_marked_unreachable_and_not_retried(
    database_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(database_url, tmp_path, fake, "polling", knowledge=False) as (
        app,
        citizen,
    ):
        fake.fail("sendMessage", 403, times=None, chat_id=CITIZEN)
        await citizen.say("/start")
        calls = fake.calls_of("sendMessage", CITIZEN)
        assert [c.status for c in calls] == [403]  # not retried; the menu was not even tried
        row = (await unreachable_rows(app))[str(CITIZEN)]
        assert row.unreachable_at is not None
        assert "blocked" in row.reason

        neighbour = Citizen(fake, citizen.channel, citizen.deliver, chat_id=NEIGHBOUR)
        await neighbour.say("/start")
        assert len(neighbour.last) == 2

        # Unblocked: the next message clears the mark and gets its answer.
        fake.clear_faults()
        await citizen.say("/menu")
        assert citizen.text == texts.MENU_PROMPT
        assert (await unreachable_rows(app))[str(CITIZEN)].unreachable_at is None

        # Blocking is also announced by a my_chat_member update.
        await citizen.send(fake.membership_update(CITIZEN, "kicked"))
        assert (await unreachable_rows(app))[str(CITIZEN)].unreachable_at is not None
        await citizen.send(fake.membership_update(CITIZEN, "member"))
        assert (await unreachable_rows(app))[str(CITIZEN)].unreachable_at is None
        assert str(NEIGHBOUR) not in await unreachable_rows(app)


async def test_each_chat_is_held_to_about_one_message_a_second_after_a_burst() -> None:
    limiter = OutgoingLimiter(Tuning(per_chat_per_second=20, per_chat_burst=2))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(6):
        await limiter.acquire(CITIZEN, message=True)
    assert loop.time() - started >= 0.15  # 2 at once, then 4 at 20 a second
    other = loop.time()
    await limiter.acquire(NEIGHBOUR, message=True)
    assert loop.time() - other < 0.05  # another chat is not held up
    limiter.pause(0.2)
    paused = loop.time()
    await limiter.acquire(None, message=False)
    assert loop.time() - paused >= 0.15  # a 429 holds every send


# ---------------------------------------------------------------- what is handled


async def test_edited_and_service_messages_are_ignored(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(sqlite_url, tmp_path, fake, "polling", knowledge=False) as (_, citizen):
        edited = fake.message(CITIZEN, "ho so tctn gom nhung gi", edit_date=1)
        await citizen.send({"update_id": fake.next_update_id(), "edited_message": edited})
        await citizen.say(None, new_chat_title="Tên mới")
        assert fake.calls_of("sendMessage") == []
        await citizen.say("/start")
        assert len(citizen.last) == 2


async def test_in_a_group_only_commands_and_messages_for_the_bot_are_answered(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(sqlite_url, tmp_path, fake, "polling") as (_, citizen):
        group = Citizen(fake, citizen.channel, citizen.deliver, chat_id=GROUP)
        assert await group.say("Chào cả nhà, mai họp tổ nhé") == []
        assert await group.say("/start@other_bot") == []
        assert await group.say(None, photo=PHOTO) == []

        asked = fake.message_update(GROUP, "@motcua_test_bot ho so tctn gom nhung gi", user_id=7)
        await group.send(asked)
        assert "Mẫu số 10" in group.last[0]["text"]
        first = fake.calls_of("sendMessage", GROUP)[0]
        assert first.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]

        answer = group.last[0]
        await group.say("Còn lệ phí thì sao?", reply_to_message=answer)
        assert group.last  # a reply to the bot is addressed to it

        await group.say("/menu")
        assert group.text == texts.MENU_PROMPT
        await group.say("/help@motcua_test_bot")
        assert "Cách dùng" in group.text


async def test_documents_are_read_up_to_5_mb_and_larger_ones_refused_unread(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(sqlite_url, tmp_path, fake, "polling", knowledge=False) as (_, citizen):
        fake.add_file("doc-small", b"%PDF-1.4 small")
        small = {
            "file_id": "doc-small",
            "file_unique_id": "ds",
            "file_name": "don.pdf",
            "mime_type": "application/pdf",
            "file_size": 14,
        }
        await citizen.say(None, document=small)
        assert citizen.text == texts.FILE_NOT_ACCEPTED
        assert [c.params["file_id"] for c in fake.calls_of("getFile")] == ["doc-small"]
        assert len(fake.calls_of("download")) == 1

        large = {
            "file_id": "doc-large",
            "file_unique_id": "dl",
            "file_name": "ho so <scan>.pdf",
            "mime_type": "application/pdf",
            "file_size": 6 * 1024 * 1024,
        }
        await citizen.say(None, document=large)
        assert "«ho so <scan>.pdf» quá lớn (6,0 MB)" in citizen.text
        assert "tối đa 5 MB" in citizen.text
        assert [c.params["file_id"] for c in fake.calls_of("getFile")] == ["doc-small"]


# ---------------------------------------------------------------- setup, webhook, secrets


async def test_commands_and_webhook_registration(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram
) -> None:
    async with connected(sqlite_url, tmp_path, fake, "webhook", knowledge=False):
        assert fake.commands == [
            {"command": "start", "description": "Bắt đầu trò chuyện"},
            {"command": "menu", "description": "Danh mục chức năng"},
            {"command": "help", "description": "Hướng dẫn sử dụng"},
        ]
        [registered] = fake.calls_of("setWebhook")
        assert registered.params["url"] == WEBHOOK_URL
        assert registered.params["secret_token"] == WEBHOOK_SECRET
        assert set(registered.params["allowed_updates"]) >= {"message", "callback_query"}

    async with connected(
        sqlite_url, tmp_path, fake, "webhook", knowledge=False
    ):  # a restart: same URL
        assert len(fake.calls_of("getWebhookInfo")) == 2
        assert len(fake.calls_of("setWebhook")) == 1
        assert fake.calls_of("getUpdates") == []

    async with connected(sqlite_url, tmp_path, fake, "polling", knowledge=False) as (_, citizen):
        assert len(fake.calls_of("deleteWebhook")) == 1
        assert fake.webhook_url == ""
        await citizen.say("/start")
        assert len(citizen.last) == 2


async def test_the_bot_token_never_reaches_a_log_line_or_a_route(
    sqlite_url: str, tmp_path: Path, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with connected(sqlite_url, tmp_path, fake, "webhook", knowledge=False) as (app, citizen):
        routes = [r.canonical for r in make_web_app(app).router.resources()]
        assert WEBHOOK_PATH in routes
        assert not any(TOKEN in r or "bot" + TOKEN[:7] in r for r in routes)
        fake.fail("sendMessage", 502, times=1)
        fake.fail("sendMessage", 429, retry_after=0.1, times=1)
        await citizen.say("/start")
        fake.fail("sendMessage", 403, times=None)
        await citizen.say("/help")
    wrong = "7654321:AAH-this-token-was-revoked-000000"
    async with telegram_app(sqlite_url, tmp_path, fake, token=wrong, knowledge=False) as app:
        assert app.telegram is not None
        assert not await app.telegram.wait_ready(0.5)
    assert "rejected TELEGRAM_BOT_TOKEN" in caplog.text
    assert "<redacted>" in caplog.text  # PTB and httpx did try to log the URLs
    for record in caplog.records:
        line = logging.Formatter().format(record)
        assert TOKEN not in line
        assert wrong not in line
        assert WEBHOOK_SECRET not in line


def test_a_webhook_needs_https_and_a_valid_secret(tmp_path: Path) -> None:
    url = "sqlite+aiosqlite:///unused.db"
    with pytest.raises(ValidationError, match="needs TELEGRAM_WEBHOOK_SECRET") as missing:
        make_settings(url, tmp_path, telegram_bot_token=TOKEN, telegram_webhook_url=WEBHOOK_URL)
    assert TOKEN not in str(missing.value)
    with pytest.raises(ValidationError, match="https"):
        make_settings(
            url,
            tmp_path,
            telegram_bot_token=TOKEN,
            telegram_webhook_url="http://motcua.example.vn/telegram/webhook",
            telegram_webhook_secret=WEBHOOK_SECRET,
        )
    with pytest.raises(ValidationError):
        make_settings(
            url,
            tmp_path,
            telegram_webhook_url=WEBHOOK_URL,
            telegram_webhook_secret="không hợp lệ",
        )
    blank = make_settings(url, tmp_path, telegram_bot_token="  ")
    assert blank.telegram_bot_token is None
    assert App.build(blank).telegram is None


async def test_the_migration_creates_what_the_model_describes(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diff if "channel_recipients" in repr(d)] == []


# ---------------------------------------------------------------- rendering


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    paragraphs = ["a" * 30, "b" * 30, "c" * 30]
    assert split_text("\n\n".join(paragraphs), limit=70) == [
        "a" * 30 + "\n\n" + "b" * 30,
        "c" * 30,
    ]
    lines = "\n".join(["dòng một " * 3, "dòng hai " * 3]).strip()
    assert all(len(p) <= 40 for p in split_text(lines, limit=40))
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("   ") == []
    assert split_text("ngắn") == ["ngắn"]


def test_buttons_fit_telegram() -> None:
    long = "Hồ sơ đề nghị hưởng trợ cấp thất nghiệp gồm những giấy tờ gì và nộp ở đâu cho nhanh?"
    label = button_label(long)
    assert len(label) <= 64
    assert label.endswith("…")
    assert label[:-1] in long
    assert button_label("  Có\n ") == "Có"
    assert check_callback_data("e:" + "a" * 62) == "e:" + "a" * 62
    with pytest.raises(ValueError, match="64 bytes"):
        check_callback_data("e:" + "ă" * 32)  # 66 bytes in UTF-8
    with pytest.raises(ValueError, match="64 bytes"):
        check_callback_data("")


def test_render_escapes_text_and_puts_the_keyboard_last() -> None:
    choices = (Choice("Có", "hf:1:1"), Choice("Chưa", "hf:1:0"))
    [out] = render(Reply("1 < 2 & <b>", choices))
    assert out.html == "1 &lt; 2 &amp; &lt;b&gt;"
    assert out.markup is not None
    assert [[b.text for b in row] for row in out.markup.inline_keyboard] == [["Có", "Chưa"]]

    picture = Attachment("so-do.png", b"\x89PNG", "image/png")
    long_text = "\n\n".join(["đoạn văn " * 60] * 3)
    sends = render(Reply(long_text, (Choice("Menu chính", "m:menu"),), image=picture))
    assert [s.kind for s in sends] == ["text", "photo"]
    assert sends[-1].markup is not None
    assert sends[0].markup is None
    [captioned] = render(Reply("Sơ đồ nơi nộp hồ sơ", image=picture))
    assert captioned.kind == "photo"
    assert captioned.html == "Sơ đồ nơi nộp hồ sơ"
    [bare] = render(Reply("", (Choice("Menu chính", "m:menu"),)))
    assert bare.html
    assert bare.markup is not None
