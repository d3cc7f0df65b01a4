"""The message log and citizens' verdicts on answers."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AnswerFeedback, MessageLog, utcnow
from storage.repositories._core import core_connection
from storage.repositories._upsert import insert_ignore


async def log_question(
    session: AsyncSession,
    *,
    channel: str,
    user_hash: str,
    question: str,
    decision: str,
    entry_id: str | None,
    score: float | None,
    latency_ms: float,
) -> int:
    """Write one exchange (the question already masked) and return its id."""
    conn = await core_connection(session)  # Core, not an ORM object: one per message
    result = await conn.execute(
        _LOG,
        {
            "created_at": utcnow(),
            "channel": channel,
            "user_hash": user_hash,
            "question": question,
            "decision": decision,
            "entry_id": entry_id,
            "score": score,
            "latency_ms": latency_ms,
        },
    )
    return int(result.scalar_one())


_LOG = insert(MessageLog).returning(MessageLog.id)


async def message_owner(session: AsyncSession, message_id: int) -> tuple[str, str | None] | None:
    """The user hash and entry of a logged answer, or None if there is no such message."""
    row = (
        await session.execute(
            select(MessageLog.user_hash, MessageLog.entry_id).where(MessageLog.id == message_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def add_answer_feedback(
    session: AsyncSession,
    *,
    message_id: int,
    channel: str,
    user_hash: str,
    entry_id: str | None,
    helpful: bool,
) -> bool:
    """Store a verdict; False when this answer was already rated."""
    return await insert_ignore(
        session,
        AnswerFeedback,
        message_id=message_id,
        channel=channel,
        user_hash=user_hash,
        entry_id=entry_id,
        helpful=helpful,
    )


async def set_trip_saved(
    session: AsyncSession, *, message_id: int, user_hash: str, saved: bool
) -> bool:
    """Record whether a rated answer saved the asker a trip; False if there is no such rating."""
    from sqlalchemy import update

    result = await session.execute(
        update(AnswerFeedback)
        .where(AnswerFeedback.message_id == message_id, AnswerFeedback.user_hash == user_hash)
        .values(trip_saved=saved)
    )
    return bool(getattr(result, "rowcount", 0))
