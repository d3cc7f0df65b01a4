"""The Zalo channels end to end: our adapters, the dispatcher and a real database, against fake
Zalo servers on loopback (``tests/fake_zalo.py``). The OA fake signs and posts events to our
webhook over real HTTP; the Bot fake is polled or pushes to our webhook.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError
from sqlalchemy import func, select, update

from bot.app import App
from bot.channels import zalo_bot, zalo_oa
from bot.channels.zalo_oa import (
    CS_MESSAGE_PATH,
    TOKEN_PATH,
    WEBHOOK_PATH,
    OaMessage,
    TokenCipher,
    ZaloOaChannel,
    choice_of,
    choice_payload,
    render,
    signature_matches,
    split_text,
    text_length,
)
from bot.delivery import Delivery
from bot.domain.outbox_payload import replies_to_payload
from bot.messages import Choice, Reply
from bot.server import make_web_app
from handlers import texts
from knowledge.entry import Entry
from storage import migrate
from storage.models import OutboxMessage, ProcessedEvent, Subscription, utcnow
from storage.models.channels import ChannelRecipient
from storage.repositories import kb as kb_repo
from storage.repositories import outbox
from storage.repositories import zalo_oa as zalo_store
from tests.conftest import make_settings
from tests.dossier_fixtures import CODE, OWNER_ID, build_city, ingest
from tests.fake_zalo import FakeZaloBot, FakeZaloOA, mac

APP_ID = "2553928453557884079"
OA_ID = "3662729599332560487"
APP_SECRET = "zalo-app-secret-for-the-tests"
OA_SECRET_KEY = "zalo-oa-secret-key-for-the-tests"
CITIZEN = "6142494823000000001"
NEIGHBOUR = "6142494823000000002"
BOT_TOKEN = "1234567890:zalo-bot-token-for-the-tests"
BOT_SECRET = "zalo-bot-webhook-secret"
BOT_WEBHOOK_URL = "https://motcua.example.vn/zalo/bot/webhook"
BOT_CHAT = "6ede9afa66b88fe6d6a9"

FAST_OA = zalo_oa.Tuning(backoff_base=0.02, backoff_max=0.1, drain_timeout=5)
FAST_BOT = zalo_bot.Tuning(poll_timeout=1, backoff_base=0.02, backoff_max=0.1, ready_timeout=5)


# ---------------------------------------------------------------- harness


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA(
        app_id=APP_ID, oa_id=OA_ID, app_secret=APP_SECRET, oa_secret_key=OA_SECRET_KEY
    ) as server:
        yield server


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'zalo.db'}"
    await migrate.upgrade_async(url)
    return url


def no_knowledge(tmp_path: Path) -> dict[str, object]:
    """Settings that skip the bundled knowledge base (starts faster)."""
    (tmp_path / "no-knowledge").mkdir(exist_ok=True)
    return {"kb_dir": tmp_path / "no-knowledge"}


def oa_settings(database_url: str, tmp_path: Path, fake: FakeZaloOA, **overrides: object) -> Any:
    values: dict[str, object] = {
        "zalo_app_id": APP_ID,
        "zalo_oa_id": OA_ID,
        "zalo_app_secret": APP_SECRET,
        "zalo_oa_secret_key": OA_SECRET_KEY,
        "zalo_oa_access_token": fake.initial_access_token,
        "zalo_oa_refresh_token": fake.initial_refresh_token,
        "zalo_oa_api_base_url": fake.base_url,
        "zalo_oauth_base_url": fake.base_url,
    }
    values.update(overrides)
    return make_settings(database_url, tmp_path, **values)


@asynccontextmanager
async def oa_app(
    database_url: str,
    tmp_path: Path,
    fake: FakeZaloOA,
    *,
    knowledge: bool = True,
    **overrides: object,
) -> AsyncIterator[tuple[App, ZaloOaChannel]]:
    """A started app with the OA channel, its webhook reachable by the fake."""
    if not knowledge:
        overrides = {**no_knowledge(tmp_path), **overrides}
    app = App.build(oa_settings(database_url, tmp_path, fake, **overrides))
    assert app.zalo_oa is not None and app.zalo_bot is None
    app.zalo_oa.tuning = FAST_OA
    await app.start(migrate_db=False, watch=False, channels=True)
    try:
        async with TestClient(TestServer(make_web_app(app))) as client:
            fake.webhook_url = str(client.make_url(WEBHOOK_PATH))
            yield app, app.zalo_oa
    finally:
        await app.close()


@dataclass
class Citizen:
    """One Zalo user writing to the OA: send events, read what came back, tap buttons."""

    fake: FakeZaloOA
    channel: ZaloOaChannel
    user_id: str = CITIZEN
    last: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.fake.messages(self.user_id))
        delivery = await self.fake.post_event(event)
        assert delivery.status == 200, delivery.answer
        await self.channel.drain()
        self.last = self.fake.messages(self.user_id)[before:]
        return self.last

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send(self.fake.text_event(self.user_id, text))

    async def follow(self) -> list[dict[str, Any]]:
        return await self.send(self.fake.follow_event(self.user_id))

    async def tap(self, fragment: str) -> list[dict[str, Any]]:
        """Tap the button whose title contains ``fragment`` in the latest replies: Zalo makes
        the user send the button's payload as text."""
        for message in reversed(self.last):
            for button in message["buttons"]:
                if fragment in button["title"]:
                    return await self.say(button["payload"])
        raise AssertionError(f"no button with {fragment!r} in {self.titles}")

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.last)

    @property
    def titles(self) -> list[str]:
        return [b["title"] for m in self.last for b in m["buttons"]]


async def processed_events(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)


async def stored_pair(app: App) -> tuple[str, str, zalo_store.ZaloToken]:
    async with app.sessions() as session:
        row = await zalo_store.load_tokens(session, OA_ID)
    assert row is not None
    cipher = TokenCipher(app.settings.resolved_secret())
    return cipher.open(row.access_token), cipher.open(row.refresh_token), row


async def notify(app: App, user_id: str, text: str, key: str) -> str:
    """Queue one notification through the outbox, run a pass, return the row's status."""
    assert app.outbox is not None
    async with app.sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            dedupe_key=key,
            channel="zalo_oa",
            chat_id=user_id,
            payload=replies_to_payload([Reply(text)]),
        )
    await app.outbox.run_once()
    # The app's own outbox worker runs too and may have claimed the row first: wait for its
    # pass to end (a status read while it sends was "sending", a flaky failure under load).
    for _ in range(200):
        async with app.sessions() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
        assert row is not None
        if row.status != "sending":
            break
        await asyncio.sleep(0.05)
    return row.status


MENU = [texts.MENU_ASK, texts.MENU_BROWSE, texts.MENU_DOSSIER, texts.MENU_RATE, texts.MENU_HELP]


# ---------------------------------------------------------------- OA transcripts


async def test_a_follower_is_greeted_asks_taps_and_sends_media(
    database_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(database_url, tmp_path, fake) as (_, channel):
        citizen = Citizen(fake, channel)
        await citizen.follow()
        assert "Xin chào" in citizen.last[0]["text"]
        assert citizen.last[-1]["text"] == texts.MENU_PROMPT
        assert citizen.titles == MENU
        buttons = citizen.last[-1]["buttons"]
        assert {b["type"] for b in buttons} == {"oa.query.show"}
        assert buttons[-1]["payload"] == f"{texts.MENU_HELP} [#m:help]"
        sends = fake.calls_of(CS_MESSAGE_PATH, CITIZEN)
        assert all(c.headers["access_token"] == fake.initial_access_token for c in sends)

        await citizen.say("ho so tctn gom nhung gi")
        assert "Mẫu số 10" in citizen.last[0]["text"]
        assert texts.RELATED in citizen.text
        related = citizen.last[1]["buttons"][0]["title"]

        await citizen.tap(related)  # the payload comes back as text and is a choice again
        assert citizen.last[-1]["text"] == texts.WAS_IT_HELPFUL
        assert len(citizen.last[0]["text"]) > 50

        await citizen.say("/menu")
        await citizen.say("5")  # a typed number picks the fifth choice offered
        assert citizen.text.startswith("Cách dùng")

        for kind in ("image", "sticker", "file", "location"):
            await citizen.send(fake.media_event(CITIZEN, kind))
            assert citizen.text == texts.UNSUPPORTED, kind


async def test_more_than_five_choices_are_numbered_with_five_buttons(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake) as (_, channel):
        citizen = Citizen(fake, channel)
        await citizen.follow()
        await citizen.tap("lĩnh vực")
        [listing] = citizen.last
        lines = listing["text"].splitlines()
        assert lines[0] == texts.CHOOSE_FIELD
        numbered = [line for line in lines if line[:1].isdigit()]
        assert len(numbered) > 5
        assert len(listing["buttons"]) == 5
        assert [b["title"] for b in listing["buttons"]] == [
            line.split(". ", 1)[1] for line in numbered[:5]
        ]
        sixth = numbered[5].split(". ", 1)[1]
        await citizen.say("6")
        assert f"«{sixth}»" in citizen.last[0]["text"]


async def test_an_overlong_answer_is_split_at_paragraphs(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    paragraphs = [
        f"Bước {i}: " + " ".join(f"nội dung hướng dẫn số {i}.{j} cho người dân" for j in range(8))
        for i in range(1, 16)
    ]
    answer = "\n\n".join(paragraphs)
    assert 4500 <= len(answer) <= 6000
    question = "Quy trình thử nghiệm kênh Zalo với câu trả lời rất dài gồm những bước nào?"
    entry = Entry(id="thu-nghiem/zalo-dai", category="Thử nghiệm", question=question, answer=answer)
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, channel):
        async with app.sessions() as session, session.begin():
            await kb_repo.apply_import(session, [entry], replace=False)
        await app.knowledge.refresh()
        citizen = Citizen(fake, channel)
        await citizen.follow()
        await citizen.say(question)
        parts = [m["text"] for m in citizen.last if m["text"].startswith("Bước")]
        assert len(parts) == 3
        assert all(len(p) <= 2000 for p in parts)
        assert "\n\n".join(parts) == answer  # nothing lost, cut between paragraphs only
        assert all(m["buttons"] == [] for m in citizen.last[:3])


async def test_a_forged_event_is_refused_and_nothing_is_processed(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, channel):
        event = fake.follow_event(CITIZEN)
        of_other_bytes = fake.sign(b"", event)
        tampered = dict(event, follower={"id": NEIGHBOUR})
        forgeries = [
            await fake.post_event(event, signature=""),
            await fake.post_event(event, signature="mac=" + "0" * 64),
            await fake.post_event(event, signature=of_other_bytes),
            await fake.post_event(event, first=OA_ID),  # the other variant is off by default
            await fake.post_event(
                tampered,
                signature=fake.sign(fake_body(event), event),
                raw=fake_body(tampered),
            ),
        ]
        assert [d.status for d in forgeries] == [401] * 5
        assert all("error" in d.answer for d in forgeries)
        await channel.drain()
        assert fake.calls_of(CS_MESSAGE_PATH) == []
        assert await processed_events(app) == 0

        genuine = await fake.post_event(event)
        assert genuine.status == 200
        await channel.drain()
        assert "Xin chào" in fake.messages(CITIZEN)[0]["text"]


def fake_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def test_the_signature_variants() -> None:
    event = {"event_name": "follow", "oa_id": OA_ID, "timestamp": "1699003881354"}
    raw = fake_body(event)
    key = OA_SECRET_KEY.encode()
    by_app = "mac=" + mac(APP_ID, raw, "1699003881354", OA_SECRET_KEY)
    by_oa = "mac=" + mac(OA_ID, raw, "1699003881354", OA_SECRET_KEY)

    def check(header: str, variant: zalo_oa.SignatureVariant) -> str | None:
        return signature_matches(header, raw, event, app_id=APP_ID, secret_key=key, variant=variant)

    assert check(by_app, "app_id") == "app_id"
    assert check(by_app.upper().replace("MAC=", "mac="), "app_id") == "app_id"
    assert check(by_oa, "app_id") is None
    assert check(by_oa, "oa_id") == "oa_id"
    assert check(by_app, "oa_id") is None
    assert check(by_app, "either") == "app_id"
    assert check(by_oa, "either") == "oa_id"
    assert check("mac=", "either") is None
    assert check(by_app + "0", "app_id") is None
    assert check("mac=ứng-dụng", "app_id") is None  # non-ASCII does not break the comparison


async def test_the_oa_id_variant_can_be_switched_on(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(
        sqlite_url, tmp_path, fake, knowledge=False, zalo_oa_signature_variant="either"
    ) as (_, channel):
        citizen = Citizen(fake, channel)
        delivery = await fake.post_event(fake.follow_event(CITIZEN), first=OA_ID)
        assert delivery.status == 200
        await channel.drain()
        await citizen.say("/help")
        assert citizen.text.startswith("Cách dùng")


async def test_a_redelivered_event_is_processed_once(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (_, channel):
        citizen = Citizen(fake, channel)
        follow = fake.follow_event(CITIZEN)
        await citizen.send(follow)
        await citizen.send(follow)  # Zalo retries when it thinks the webhook failed
        help_event = fake.text_event(CITIZEN, "/help")
        await asyncio.gather(fake.post_event(help_event), fake.post_event(help_event))
        await channel.drain()
        texts_sent = [m["text"] for m in fake.messages(CITIZEN)]
        assert len([t for t in texts_sent if "Xin chào" in t]) == 1
        assert len([t for t in texts_sent if t.startswith("Cách dùng")]) == 1


async def test_the_webhook_answers_before_the_event_is_processed(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (_, channel):
        fake.slow(CS_MESSAGE_PATH, 0.6)  # a slow Zalo: each reply takes 0.6 s
        delivery = await fake.post_event(fake.follow_event(CITIZEN))
        assert delivery.status == 200
        assert delivery.latency < 0.5  # well within Zalo's 2 s, before the first reply
        assert fake.messages(CITIZEN) == []
        await channel.drain()
        assert len(fake.messages(CITIZEN)) == 2


# ---------------------------------------------------------------- tokens


async def test_an_expired_token_is_refreshed_once_and_the_pair_persisted(
    database_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(database_url, tmp_path, fake, knowledge=False) as (app, channel):
        citizen = Citizen(fake, channel)
        await citizen.follow()
        access, refresh, row = await stored_pair(app)
        assert (access, refresh) == (fake.initial_access_token, fake.initial_refresh_token)
        assert fake.initial_access_token not in row.access_token  # sealed at rest
        assert fake.initial_refresh_token not in row.refresh_token

        fake.expire_access_tokens()
        await citizen.say("/help")
        assert citizen.text.startswith("Cách dùng")
        errors = [c.error for c in fake.calls_of(CS_MESSAGE_PATH, CITIZEN)]
        assert errors[-2:] == [-216, 0]  # refused once, then sent with the new token
        assert fake.rotations == 1 and channel.tokens.refreshes == 1
        access, refresh, _ = await stored_pair(app)
        assert refresh == fake.refresh_token
        assert fake.access_tokens[access] > 0
        assert fake.calls_of(TOKEN_PATH)[0].headers["secret_key"] == APP_SECRET

    # Another process on the same database, configured with the (now spent) first pair: it
    # uses the stored pair and does not refresh again.
    async with oa_app(database_url, tmp_path, fake, knowledge=False) as (app, channel):
        assert (await stored_pair(app))[:2] == (access, refresh)
        result = await channel.deliver(CITIZEN, [Reply("Hồ sơ của bạn đã có kết quả.")])
        assert result.outcome is Delivery.SENT
        assert fake.calls_of(CS_MESSAGE_PATH)[-1].headers["access_token"] == access
        assert fake.rotations == 1
        assert [c.error for c in fake.calls_of(TOKEN_PATH)] == [0]


async def test_concurrent_refreshes_from_two_processes_rotate_once(
    database_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with (
        oa_app(database_url, tmp_path, fake, knowledge=False) as (_, first),
        oa_app(database_url, tmp_path, fake, knowledge=False) as (_, second),
    ):
        await Citizen(fake, second).follow()  # the webhook URL is the last app's
        fake.expire_access_tokens()
        fake.slow(TOKEN_PATH, 0.3)  # both processes are refreshing at the same time
        results = await asyncio.gather(
            first.deliver(CITIZEN, [Reply("Thông báo một")]),
            second.deliver(CITIZEN, [Reply("Thông báo hai")]),
        )
        assert [r.outcome for r in results] == [Delivery.SENT, Delivery.SENT]
        assert fake.rotations == 1
        assert [c.error for c in fake.calls_of(TOKEN_PATH)] == [0]  # never a spent token
        assert first.tokens.refreshes + second.tokens.refreshes == 1
        assert {m["text"] for m in fake.messages(CITIZEN)} >= {"Thông báo một", "Thông báo hai"}


async def test_a_token_close_to_expiry_is_refreshed_before_use(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, channel):
        await Citizen(fake, channel).follow()
        async with app.sessions() as session, session.begin():
            await session.execute(
                update(zalo_store.ZaloToken).values(expires_at=utcnow() + timedelta(minutes=2))
            )
        channel.tokens.forget()
        before = len(fake.calls_of(CS_MESSAGE_PATH))
        result = await channel.deliver(CITIZEN, [Reply("Nhắc lịch hẹn trả kết quả.")])
        assert result.outcome is Delivery.SENT
        assert fake.rotations == 1
        assert [c.error for c in fake.calls_of(CS_MESSAGE_PATH)[before:]] == [0]  # no -216
        access, _, row = await stored_pair(app)
        assert zalo_store.aware(row.expires_at) > utcnow() + timedelta(hours=24)
        assert fake.calls_of(CS_MESSAGE_PATH)[-1].headers["access_token"] == access


async def test_a_refused_refresh_is_retried_later_and_never_logs_secrets(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (_, channel):
        citizen = Citizen(fake, channel)
        await citizen.follow()
        fake.expire_access_tokens()
        fake.refresh_token = "RT-revoked-elsewhere"  # the stored one no longer works
        result = await channel.deliver(CITIZEN, [Reply("Thông báo")])
        assert result.outcome is Delivery.RETRY
        assert [c.error for c in fake.calls_of(TOKEN_PATH)] == [-14014]
        await fake.post_event(fake.text_event(CITIZEN, "/help"), signature="mac=forged")
    assert "refresh token was refused" in caplog.text
    secrets_seen = [*fake.issued_tokens, APP_SECRET, OA_SECRET_KEY]
    for record in caplog.records:  # every library's records, the SQL ones included
        line = logging.Formatter().format(record)
        for value in secrets_seen:
            assert value not in line
        if record.name.startswith("bot."):
            assert CITIZEN not in line  # users appear as keyed hashes


# ---------------------------------------------------------------- faults and windows


async def test_errors_in_the_body_faults_and_retries(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (_, channel):
        await Citizen(fake, channel).follow()
        reply = [Reply("Hồ sơ của bạn đã được tiếp nhận.")]
        for fault in ({"error": -32}, {"http_status": 502}, {"malformed": True}):
            fake.fail(CS_MESSAGE_PATH, **fault)
            before = len(fake.calls_of(CS_MESSAGE_PATH))
            assert (await channel.deliver(CITIZEN, reply)).outcome is Delivery.SENT
            assert len(fake.calls_of(CS_MESSAGE_PATH)) - before == 2, fault
        fake.fail(CS_MESSAGE_PATH, error=-201)  # invalid parameter: final, not retried
        before = len(fake.calls_of(CS_MESSAGE_PATH))
        result = await channel.deliver(CITIZEN, reply)
        assert result.outcome is Delivery.UNDELIVERABLE
        assert "-201" in result.error
        assert len(fake.calls_of(CS_MESSAGE_PATH)) - before == 1
        fake.fail(CS_MESSAGE_PATH, error=-32, times=None)  # a rate limit that lasts
        assert (await channel.deliver(CITIZEN, reply)).outcome is Delivery.RETRY


async def test_notifications_outside_the_window_are_skipped_or_undeliverable(
    database_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(database_url, tmp_path, fake, knowledge=False) as (app, channel):
        await Citizen(fake, channel).follow()
        await Citizen(fake, channel, NEIGHBOUR).follow()
        assert await notify(app, CITIZEN, "Thông báo trong thời hạn", "w-1") == "sent"

        # Our own record says the citizen last wrote 8 days ago: not even attempted.
        async with app.sessions() as session, session.begin():
            await session.execute(
                update(zalo_store.ZaloInteraction)
                .where(zalo_store.ZaloInteraction.user_id == CITIZEN)
                .values(last_interaction_at=utcnow() - timedelta(days=8))
            )
        calls = len(fake.calls_of(CS_MESSAGE_PATH))
        assert await notify(app, CITIZEN, "Quá hạn tương tác", "w-2") == "undeliverable"
        assert len(fake.calls_of(CS_MESSAGE_PATH)) == calls

        # Zalo knows better (the neighbour's interaction expired there): -230, final.
        fake.user(NEIGHBOUR).last_interaction_ms -= 8 * 24 * 3600 * 1000
        assert await notify(app, NEIGHBOUR, "Zalo từ chối", "w-3") == "undeliverable"
        assert fake.calls_of(CS_MESSAGE_PATH, NEIGHBOUR)[-1].error == -230

        # The outbox rows say which of the two it was, for every process to count.
        async with app.sessions() as session:
            rows = await session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.last_error))
            errors = {row.dedupe_key: row.last_error for row in rows}
        assert errors["w-2"].startswith(zalo_oa.WINDOW_SKIPPED)
        assert errors["w-3"].startswith(zalo_oa.WINDOW_REFUSED)

        # Writing again opens the window again.
        await Citizen(fake, channel).say("/help")
        assert await notify(app, CITIZEN, "Lại trong thời hạn", "w-4") == "sent"


async def test_unfollow_stops_notifications(
    sqlite_url: str, tmp_path: Path, fake: FakeZaloOA
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, channel):
        await build_city(app)
        citizen = Citizen(fake, channel)
        await citizen.follow()
        await citizen.say(CODE)
        await citizen.say(OWNER_ID)
        await citizen.tap("Báo tôi khi có thay đổi")
        async with app.sessions() as session:
            active = await session.scalar(select(Subscription.active))
        assert active is True

        await citizen.send(fake.follow_event(CITIZEN, "unfollow"))
        assert citizen.last == []
        async with app.sessions() as session:
            assert await session.scalar(select(Subscription.active)) is False
            mark = await session.get(ChannelRecipient, ("zalo_oa", CITIZEN))
        assert mark is not None and mark.unreachable_at is not None

        before = len(fake.calls_of(CS_MESSAGE_PATH))
        await ingest(app, finished("zalo-done-1"))
        assert app.outbox is not None
        await app.outbox.run_once()
        assert await notify(app, CITIZEN, "Đã hủy theo dõi", "u-1") == "undeliverable"
        assert len(fake.calls_of(CS_MESSAGE_PATH)) == before


def finished(event_id: str) -> dict[str, object]:
    event = {"id": event_id, "dossier_code": CODE, "at": "2026-01-20T09:00:00+07:00", "status": 9}
    return {"events": [event]}


# ---------------------------------------------------------------- rendering (pure)


def test_render_buttons_numbers_and_splits() -> None:
    five = tuple(Choice(f"Lựa chọn {i}", f"m:{i}") for i in range(1, 6))
    [message] = render([Reply("Bạn muốn làm gì?", five)])
    assert message.text == "Bạn muốn làm gì?"
    assert [b.value for b in message.buttons] == [c.value for c in five]

    seven = tuple(Choice(f"Lĩnh vực {i}", f"c:{i}") for i in range(1, 8))
    first, second = render([Reply("Câu hỏi liên quan:", five[:2]), Reply("Chọn lĩnh vực:", seven)])
    assert len(first.buttons) == 2
    assert "3. Lĩnh vực 1" in second.text and "9. Lĩnh vực 7" in second.text
    assert len(second.buttons) == 5

    long = "\n\n".join(["đoạn văn " * 100] * 4)
    pieces = render([Reply(long, five[:1])])
    assert len(pieces) > 1
    assert all(text_length(p.text) <= 2000 for p in pieces)
    assert pieces[-1].buttons and not pieces[0].buttons
    [bare] = render([Reply("", five[:1])])
    assert bare.text == zalo_oa.CHOOSE

    body = OaMessage("Chào", five[:1]).body("u1")
    assert body["recipient"] == {"user_id": "u1"}
    button = body["message"]["attachment"]["payload"]["buttons"][0]
    assert button == {
        "title": "Lựa chọn 1",
        "type": "oa.query.show",
        "payload": "Lựa chọn 1 [#m:1]",
    }


def test_payloads_round_trip_and_texts_are_measured_after_nfc() -> None:
    choice = Choice("Hồ sơ trợ cấp thất nghiệp " * 10, "e:0a1b2c3d4e")
    payload = choice_payload(choice)
    assert len(payload) <= 1000
    assert choice_of(payload) == "e:0a1b2c3d4e"
    assert choice_of("Tôi hỏi về [#hộ tịch] nhé") is None
    assert choice_of("ho so tctn gom nhung gi") is None
    with pytest.raises(ValueError, match="payload"):
        choice_payload(Choice("x", "có dấu cách"))
    decomposed = "Việt Nam".replace("ệ", "e\u0323\u0302")
    assert text_length(decomposed) == len("Việt Nam")
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert text_length("👍") == 2


def test_tokens_are_sealed_with_the_server_secret() -> None:
    cipher = TokenCipher(b"one secret")
    sealed = cipher.seal("AT-very-secret-token")
    assert "very-secret" not in sealed
    assert cipher.seal("AT-very-secret-token") != sealed  # a fresh nonce every time
    assert cipher.open(sealed) == "AT-very-secret-token"
    with pytest.raises(ValueError, match="another key"):
        TokenCipher(b"another secret").open(sealed)
    with pytest.raises(ValueError, match=r"another key|corrupt"):
        cipher.open(sealed[:-4] + "AAAA")


def test_settings_need_the_whole_oa_configuration(tmp_path: Path) -> None:
    url = "sqlite+aiosqlite:///unused.db"
    with pytest.raises(ValidationError, match="ZALO_OA_ID, ZALO_APP_SECRET") as partial:
        make_settings(url, tmp_path, zalo_app_id=APP_ID, zalo_oa_secret_key=OA_SECRET_KEY)
    assert OA_SECRET_KEY not in str(partial.value)
    with pytest.raises(ValidationError, match="ZALO_BOT_WEBHOOK_SECRET"):
        make_settings(url, tmp_path, zalo_bot_token=BOT_TOKEN, zalo_bot_mode="webhook")
    with pytest.raises(ValidationError, match="https"):
        make_settings(url, tmp_path, zalo_bot_webhook_url="http://motcua.example.vn/zalo")
    blank = make_settings(url, tmp_path, zalo_bot_token="  ")
    app = App.build(blank)
    assert app.zalo_bot is None and app.zalo_oa is None


# ---------------------------------------------------------------- Bot API


@asynccontextmanager
async def bot_app(
    database_url: str,
    tmp_path: Path,
    fake: FakeZaloBot,
    *,
    webhook: bool = False,
    knowledge: bool = True,
) -> AsyncIterator[tuple[App, TestClient]]:
    overrides: dict[str, object] = {
        "zalo_bot_token": BOT_TOKEN,
        "zalo_bot_api_base_url": fake.base_url,
    }
    if webhook:
        overrides.update(
            zalo_bot_mode="webhook",
            zalo_bot_webhook_url=BOT_WEBHOOK_URL,
            zalo_bot_webhook_secret=BOT_SECRET,
        )
    if not knowledge:
        overrides.update(no_knowledge(tmp_path))
    app = App.build(make_settings(database_url, tmp_path, **overrides))
    assert app.zalo_bot is not None and app.zalo_oa is None
    app.zalo_bot.tuning = FAST_BOT
    await app.start(migrate_db=False, watch=False, channels=True)
    try:
        assert await app.zalo_bot.wait_ready()
        async with TestClient(TestServer(make_web_app(app))) as client:
            yield app, client
    finally:
        await app.close()


async def test_a_bot_chat_by_webhook_with_numbered_menus_in_both_envelopes(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        FakeZaloBot(BOT_TOKEN) as fake,
        bot_app(database_url, tmp_path, fake, webhook=True) as (app, client),
    ):
        [registered] = fake.calls_of("setWebhook")
        assert registered.params == {"url": BOT_WEBHOOK_URL, "secret_token": BOT_SECRET}
        url = str(client.make_url(zalo_bot.WEBHOOK_PATH))
        channel = app.zalo_bot
        assert channel is not None

        async def say(text: str, kind: str = "text", *, wrapped: bool = True) -> list[str]:
            before = len(fake.messages(BOT_CHAT))
            update_ = fake.update(BOT_CHAT, text, kind=kind)
            assert await fake.push(url, update_, wrapped=wrapped) == 200
            assert channel is not None
            await channel.drain()
            return fake.messages(BOT_CHAT)[before:]

        greeting, menu = await say("/start")
        assert "Xin chào" in greeting
        assert menu.splitlines() == [
            texts.MENU_PROMPT,
            "",
            *(f"{i}. {label}" for i, label in enumerate(MENU, 1)),
            zalo_bot.NUMBER_HINT,
        ]
        # {"ok": true, "result": update} above, the bare update (as openclaw saw it) here.
        assert (await say("5", wrapped=False))[0].startswith("Cách dùng")
        answer = await say("ho so tctn gom nhung gi")
        assert "Mẫu số 10" in answer[0]
        assert answer[-1].endswith(zalo_bot.NUMBER_HINT)
        assert await say("", kind="image") == [texts.UNSUPPORTED]


async def test_the_bot_webhook_secret_is_checked(sqlite_url: str, tmp_path: Path) -> None:
    async with (
        FakeZaloBot(BOT_TOKEN) as fake,
        bot_app(sqlite_url, tmp_path, fake, webhook=True, knowledge=False) as (app, client),
    ):
        url = str(client.make_url(zalo_bot.WEBHOOK_PATH))
        update_ = fake.update(BOT_CHAT, "/start")
        for secret in ("", "guessed-secret", BOT_SECRET + "x"):
            assert await fake.push(url, update_, secret=secret) == 401
        assert app.zalo_bot is not None
        await app.zalo_bot.drain()
        assert fake.messages(BOT_CHAT) == []
        assert await processed_events(app) == 0
        assert await fake.push(url, update_) == 200
        assert await fake.push(url, update_) == 200  # a redelivery: answered once
        await app.zalo_bot.drain()
        assert len(fake.messages(BOT_CHAT)) == 2
        resp = await client.post(
            zalo_bot.WEBHOOK_PATH, data=b"not json", headers={zalo_bot.SECRET_HEADER: BOT_SECRET}
        )
        assert resp.status == 400


async def test_a_bot_chat_by_polling_with_long_texts_split(sqlite_url: str, tmp_path: Path) -> None:
    answer = "\n\n".join(f"Đoạn {i}:" + " thông tin thủ tục" * 40 for i in range(1, 8))
    assert len(answer) > 4000
    question = "Câu hỏi thử nghiệm kênh Zalo Bot có câu trả lời rất dài là gì?"
    entry = Entry(id="thu-nghiem/bot-dai", category="Thử nghiệm", question=question, answer=answer)
    async with (
        FakeZaloBot(BOT_TOKEN) as fake,
        bot_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, _),
    ):
        assert len(fake.calls_of("deleteWebhook")) == 1
        async with app.sessions() as session, session.begin():
            await kb_repo.apply_import(session, [entry], replace=False)
        await app.knowledge.refresh()

        await fake.enqueue(fake.update(BOT_CHAT, "/start"))
        greeting, menu = await fake.wait_sent(BOT_CHAT, 2)
        assert "Xin chào" in greeting and "1. " in menu

        await fake.enqueue(fake.update(BOT_CHAT, question))
        sent = await fake.wait_sent(BOT_CHAT, 5, last=lambda t: t.endswith(zalo_bot.NUMBER_HINT))
        parts = [t for t in sent[2:] if t.startswith("Đoạn")]
        assert len(parts) >= 3
        assert all(len(p) <= 2000 for p in parts)
        assert "\n\n".join(parts) == answer
        assert len(fake.calls_of("getUpdates")) >= 2


async def test_bot_deliveries_and_a_rejected_token(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeZaloBot(BOT_TOKEN) as fake:
        async with bot_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, _):
            channel = app.zalo_bot
            assert channel is not None
            menu = Reply("Chọn:", (Choice("Có", "a"), Choice("Không", "b")))
            assert (await channel.deliver(BOT_CHAT, [menu])).outcome is Delivery.SENT
            assert fake.messages(BOT_CHAT)[-1].splitlines()[-3:-1] == ["1. Có", "2. Không"]
            fake.fail("sendMessage", 500)
            assert (await channel.deliver(BOT_CHAT, [Reply("Lần hai")])).outcome is Delivery.SENT
            fake.fail("sendMessage", 403)
            result = await channel.deliver(BOT_CHAT, [Reply("Lần ba")])
            assert result.outcome is Delivery.UNDELIVERABLE
            assert (await channel.deliver(BOT_CHAT, [Reply("Lần bốn")])).outcome is (
                Delivery.UNDELIVERABLE
            )  # marked unreachable: not tried again
            assert len(fake.calls_of("sendMessage")) == 4
        fake.token = "another-token"  # the operator's token was revoked
        app = App.build(
            make_settings(
                sqlite_url,
                tmp_path,
                zalo_bot_token=BOT_TOKEN,
                zalo_bot_api_base_url=fake.base_url,
                **no_knowledge(tmp_path),
            )
        )
        await app.start(migrate_db=False, watch=False, channels=True)
        try:
            assert app.zalo_bot is not None
            assert not await app.zalo_bot.wait_ready(0.5)
        finally:
            await app.close()
    assert "rejected ZALO_BOT_TOKEN" in caplog.text
    for record in caplog.records:
        assert BOT_TOKEN not in logging.Formatter().format(record)
