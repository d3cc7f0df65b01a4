"""One transaction per message: the channel's bookkeeping (``after``) commits with the claim,
the state and the log, or not at all; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.messages import Channel, ChatRef, Incoming, Reply
from storage.models import (
    ChatStateRow,
    MessageLog,
    ProcessedEvent,
    RateCounter,
    WebSession,
    utcnow,
)
from storage.models.web import WebHistoryItem
from tests.test_hardening_ratelimit import away_from_the_window_edge, worker


async def count(app: App, model: type) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_after_commits_with_the_message(app: App) -> None:
    seen: list[list[Reply]] = []

    async def keep(db: AsyncSession, replies: list[Reply]) -> None:
        seen.append(replies)
        db.add(WebSession(token_hash="s" * 64))

    chat = ChatRef(Channel.WEB, "w1", "w1")
    replies = await app.dispatcher.handle(
        Incoming(chat, "e-1", text="lệ phí đăng ký tạm trú"), after=keep
    )
    assert seen == [replies]
    assert await count(app, WebSession) == 1
    assert await count(app, MessageLog) == 1
    assert await count(app, ProcessedEvent) == 1


async def test_a_failure_in_after_leaves_nothing_written(app: App) -> None:
    async def broken(db: AsyncSession, replies: list[Reply]) -> None:
        db.add(WebSession(token_hash="s" * 64))
        await db.flush()
        raise RuntimeError("disk full")

    chat = ChatRef(Channel.WEB, "w2", "w2")
    replies = await app.dispatcher.handle(
        Incoming(chat, "e-2", text="lệ phí đăng ký tạm trú"), after=broken
    )
    assert replies[0].text.startswith("Xin lỗi, hệ thống đang gặp sự cố")
    for model in (WebSession, MessageLog, ProcessedEvent, ChatStateRow):
        assert await count(app, model) == 0, model
    # Not claimed, so a redelivery is handled.
    assert await app.dispatcher.handle(Incoming(chat, "e-2", text="lệ phí đăng ký tạm trú"))
    assert await count(app, MessageLog) == 1


async def test_a_redelivery_is_dropped_without_running_after(app: App) -> None:
    calls = 0

    async def keep(db: AsyncSession, replies: list[Reply]) -> None:
        nonlocal calls
        calls += 1

    chat = ChatRef(Channel.WEB, "w3", "w3")
    assert await app.dispatcher.handle(Incoming(chat, "e-3", text="/menu"), after=keep)
    assert await app.dispatcher.handle(Incoming(chat, "e-3", text="/menu"), after=keep) == []
    assert calls == 1


async def test_state_is_created_once_and_read_back_by_the_next_message(app: App) -> None:
    chat = ChatRef(Channel.WEB, "w4", "w4")
    await app.dispatcher.handle(Incoming(chat, "e-4", text="/menu"))
    async with app.sessions() as s:
        first = await s.scalar(select(ChatStateRow.state))
    assert first is not None
    assert "m:browse" in first
    # The next message loads that state (the upsert returns the stored row, not "{}").
    replies = await app.dispatcher.handle(Incoming(chat, "e-5", text="1"))
    assert replies
    assert await count(app, ChatStateRow) == 1
    async with app.sessions() as s:
        assert await s.scalar(select(ChatStateRow.state)) != "{}"


async def test_a_refused_web_message_commits_its_hit_and_nothing_else(
    database_url: str, tmp_path: Path
) -> None:
    """A known session over its limit: 429, counted, not claimed, nothing logged or kept."""
    async with worker(
        database_url,
        tmp_path,
        web_rate_limit_per_minute=2,
        web_rate_limit_per_address_per_minute=100,
    ) as (app, client):
        await away_from_the_window_edge()
        first = await client.post("/api/chat", json={"text": "lệ phí đăng ký tạm trú"})
        token = (await first.json())["session"]
        second = await client.post("/api/chat", json={"session": token, "text": "/menu"})
        assert second.status == 200
        before = {m: await count(app, m) for m in (ProcessedEvent, MessageLog, WebHistoryItem)}
        refused = await client.post("/api/chat", json={"session": token, "text": "/menu"})
        assert refused.status == 429
        assert "Retry-After" in refused.headers
        after = {m: await count(app, m) for m in (ProcessedEvent, MessageLog, WebHistoryItem)}
        assert after == before
        async with app.sessions() as s:
            hits = await s.scalar(
                select(func.max(RateCounter.hits)).where(RateCounter.key.like("web-session:%"))
            )
        assert hits == 3  # the refused request was counted


async def test_an_unknown_token_counts_the_address_once(database_url: str, tmp_path: Path) -> None:
    async with worker(database_url, tmp_path, web_rate_limit_per_address_per_minute=100) as (
        app,
        client,
    ):
        await away_from_the_window_edge()
        resp = await client.post(
            "/api/chat", json={"session": "made-up-session-token-0123456789", "text": "/menu"}
        )
        assert resp.status == 200
        assert (await resp.json())["session"] != "made-up-session-token-0123456789"
        async with app.sessions() as s:
            hits = await s.scalar(
                select(RateCounter.hits).where(RateCounter.key.like("web-address:%"))
            )
        assert hits == 1
        assert await count(app, WebSession) == 1


async def test_an_expired_session_starts_again_and_a_live_one_is_touched(
    database_url: str, tmp_path: Path
) -> None:
    async with worker(database_url, tmp_path) as (app, client):
        token = (await (await client.post("/api/chat", json={"text": "/menu"})).json())["session"]
        digest = hashlib.sha256(token.encode()).hexdigest()
        old = utcnow() - timedelta(days=1)
        async with app.sessions() as s, s.begin():
            await s.execute(
                update(WebSession).where(WebSession.token_hash == digest).values(last_seen_at=old)
            )
        resp = await client.post("/api/chat", json={"session": token, "text": "/menu"})
        assert (await resp.json())["session"] == token  # live: the same conversation
        async with app.sessions() as s:
            seen = await s.scalar(
                select(WebSession.last_seen_at).where(WebSession.token_hash == digest)
            )
        assert seen is not None
        assert seen.replace(tzinfo=None) > old.replace(tzinfo=None)  # touched
        expired = utcnow() - timedelta(days=app.settings.web_session_days, minutes=1)
        async with app.sessions() as s, s.begin():
            await s.execute(
                update(WebSession)
                .where(WebSession.token_hash == digest)
                .values(last_seen_at=expired)
            )
        resp = await client.post("/api/chat", json={"session": token, "text": "/menu"})
        assert resp.status == 200
        assert (await resp.json())["session"] != token  # expired: a new conversation
