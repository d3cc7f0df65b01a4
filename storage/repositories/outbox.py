"""The outbox: messages to send after their transaction commits, claimed by one sender each.

A sender claims due rows by moving them to ``sending`` with a lease (PostgreSQL skips rows that
another sender has locked, so two senders never claim one row), sends outside any transaction,
then marks each row sent, retried later, parked or undeliverable. A sender that dies mid-send
leaves its rows to be claimed again when the lease ends.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, utcnow
from storage.repositories._upsert import insert_ignore

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 6


async def enqueue(
    session: AsyncSession, *, dedupe_key: str, channel: str, chat_id: str, payload: dict[str, Any]
) -> bool:
    """Queue a message; False if one with this key was queued before (never twice)."""
    return await insert_ignore(
        session,
        OutboxMessage,
        dedupe_key=dedupe_key[:160],
        channel=channel,
        chat_id=chat_id,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
        last_error="",
    )


async def claim(
    session: AsyncSession, *, channels: Collection[str], limit: int, now: datetime | None = None
) -> list[OutboxMessage]:
    """Claim due rows for these channels (pending, or sending with an expired lease)."""
    now = now or utcnow()
    due = ((OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now)) | (
        (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now)
    )
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(due, OutboxMessage.channel.in_(list(channels)))
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.status = "sending"
        row.claimed_until = now + LEASE
        row.attempts += 1
    await session.flush()
    return rows


async def mark_sent(session: AsyncSession, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)))
            .values(status="sent", sent_at=utcnow(), claimed_until=None)
        )


async def mark_undeliverable(session: AsyncSession, row_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status="undeliverable", last_error=error[:300], claimed_until=None)
    )


async def mark_failed(
    session: AsyncSession, row_id: int, attempts: int, error: str, *, base_delay: float = 10.0
) -> str:
    """Retry later with exponential backoff, or park the row after ``MAX_ATTEMPTS``."""
    status = "parked" if attempts >= MAX_ATTEMPTS else "pending"
    delay = timedelta(seconds=min(base_delay * 2 ** (attempts - 1), 3600))
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status=status,
            last_error=error[:300],
            claimed_until=None,
            next_attempt_at=utcnow() + delay,
        )
    )
    return status


async def pending_for_chat(
    session: AsyncSession, channel: str, chat_id: str, limit: int = 20
) -> list[OutboxMessage]:
    """Due messages of one chat (the web chat collects its notifications when it polls)."""
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == "pending",
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {r[0]: int(r[1]) for r in rows}
