"""Group commit of webhook acknowledgements (storage/update_acks.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.models_inbox import InboundUpdate
from storage.repositories.webhook_inbox import Stored
from storage.update_acks import AckWriter


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


def update(event_id: str, chat: str, text: str = "xin chào") -> Stored:
    return Stored("telegram", event_id, chat, f'{{"text": "{text}"}}')


async def stored(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(InboundUpdate.event_id, InboundUpdate.chat_key).order_by(InboundUpdate.id)
        )
        return [(e, c) for e, c in rows]


async def test_requests_waiting_together_share_one_commit_and_keep_their_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = AckWriter(sessions)
    puts = [writer.put([update(f"u{i}", f"chat-{i % 3}")]) for i in range(30)]
    news = await asyncio.gather(*puts)
    assert news == [1] * 30
    # 30 requests at once: far fewer commits than requests (the first goes alone, the
    # others wait for it and go together).
    assert writer.batches <= 3
    assert [e for e, _ in await stored(sessions)] == [f"u{i}" for i in range(30)]


async def test_a_redelivery_in_the_same_batch_counts_zero(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = AckWriter(sessions)
    news = await asyncio.gather(
        writer.put([update("u1", "a")]),
        writer.put([update("u1", "a")]),
        writer.put([update("u2", "a"), update("u1", "a")]),
    )
    assert news == [1, 0, 1]
    assert await stored(sessions) == [("u1", "a"), ("u2", "a")]


async def test_one_update_that_cannot_be_stored_refuses_only_its_own_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A lone surrogate cannot be encoded by either database: that request fails (its webhook
    answers 503 and the platform redelivers), the others of its batch are stored."""
    writer = AckWriter(sessions)
    results = await asyncio.gather(
        writer.put([update("u1", "a")]),
        writer.put([update("bad", "b", text="\ud800")]),
        writer.put([update("u2", "a")]),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], Exception)
    assert await stored(sessions) == [("u1", "a"), ("u2", "a")]


async def test_a_request_gone_before_its_commit_still_stores_its_update(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The client hung up: its update is stored all the same (the platform will redeliver it,
    and the redelivery is then ignored), and the batch is not cancelled with it."""
    writer = AckWriter(sessions)
    first = asyncio.create_task(writer.put([update("u1", "a")]))
    gone = asyncio.create_task(writer.put([update("u2", "a")]))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == 1
    await writer.close()
    assert await stored(sessions) == [("u1", "a"), ("u2", "a")]
