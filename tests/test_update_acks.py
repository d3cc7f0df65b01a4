"""Group commit of webhook acknowledgements (storage/update_acks.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.update_inbox import InboxTuning, LoopLag, Update, UpdateInbox
from storage.db import create_engine, session_factory
from storage.models.inbox import InboundUpdate
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


async def _burn_then_second(
    sessions: async_sessionmaker[AsyncSession],
    max_lag: float,
    hold: float = 10.0,
    burn: float = 2.0,
) -> list[str]:
    """u1's handler keeps the loop busy (CPU in 30 ms slices, for ``burn`` seconds or until u2
    starts) while u2, of another chat, is stored: the order in which handling starts and ends."""
    events: list[str] = []
    started = asyncio.Event()
    inbox = UpdateInbox(
        sessions,
        secret=b"k",
        tuning=InboxTuning(poll_seconds=0.05, max_loop_lag_seconds=max_lag, max_hold_seconds=hold),
    )

    async def handler(payload: Any) -> None:
        events.append(f"{payload['id']} start")
        if payload["id"] == "u1":
            started.set()
            until = time.monotonic() + burn
            while "u2 start" not in events and time.monotonic() < until:
                time.sleep(0.03)  # noqa: ASYNC251 - the CPU-bound handling being simulated
                await asyncio.sleep(0)
        events.append(f"{payload['id']} end")

    inbox.route("telegram", handler)
    await inbox.start("telegram")
    try:
        await inbox.put("telegram", [Update("u1", "chat-a", {"id": "u1"})])
        await asyncio.wait_for(started.wait(), 30)  # a clear failure, not a hang
        await asyncio.sleep(0.05)  # the loop is behind now
        await inbox.put("telegram", [Update("u2", "chat-b", {"id": "u2"})])
        assert await inbox.drain("telegram", 10)
    finally:
        await inbox.stop("telegram")
    return events


async def test_nothing_new_is_claimed_while_the_loop_is_behind(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Acknowledgements run on the same loop as the handling: while the handling in hand keeps
    it busy, the stored u2 waits in the store (acknowledged) and starts once u1 is done."""
    events = await _burn_then_second(sessions, max_lag=0.01)
    assert events == ["u1 start", "u1 end", "u2 start", "u2 end"]


async def test_without_the_lag_gate_the_next_chat_would_start_meanwhile(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The control of the test above: with the gate off, u2 starts while u1 still burns."""
    events = await _burn_then_second(sessions, max_lag=60.0, burn=15.0)  # ends when u2 starts
    assert events.index("u2 start") < events.index("u1 end")


async def test_claiming_is_held_back_for_a_bounded_time_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A loop that stays late (a busy machine, or an update in hand that waits a minute for a
    platform's limits) does not stop claiming: after ``max_hold_seconds`` u2 starts anyway."""
    # A long burn: on a loaded machine the store's polls can take more than 2 s (it ends as
    # soon as u2 starts, so it costs nothing when the hold is bounded).
    events = await _burn_then_second(sessions, max_lag=0.01, hold=0.3, burn=15.0)
    assert events.index("u2 start") < events.index("u1 end")


async def test_the_loop_lag_reads_a_blocked_loop() -> None:
    lag = LoopLag()
    task = asyncio.create_task(lag.run())
    await asyncio.sleep(0.03)
    assert lag.seconds < 0.02
    time.sleep(0.3)  # noqa: ASYNC251 - a blocked loop (late by far more than two halvings)
    await asyncio.sleep(0.015)
    assert lag.seconds >= 0.05
    await asyncio.sleep(0.15)
    assert lag.seconds < 0.02  # decays once the loop keeps time again
    task.cancel()
