"""The web chat's sessions and their bubbles (``web_sessions``, ``web_history_items``).

A session is known by the SHA-256 hash of its token only; the token itself is never stored.
Every function works in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebSession, utcnow
from storage.models.web import WebHistoryItem
from storage.repositories._core import core_connection

# The statements run for every web message: Core, built once with bound parameters, run on the
# session's connection (storage/repositories/_core.py, docs/cost.md).
_TOUCH = (
    update(WebSession)
    .where(
        WebSession.token_hash == bindparam("digest"),
        WebSession.last_seen_at > bindparam("alive_after"),
    )
    .values(last_seen_at=bindparam("now"))
    .returning(WebSession.token_hash)
)
_APPEND = insert(WebHistoryItem)
_CREATE = insert(WebSession)
_OLDEST_KEPT = (
    select(WebHistoryItem.id)
    .where(WebHistoryItem.session_hash == bindparam("session_hash"))
    .order_by(WebHistoryItem.id.desc())
    .offset(bindparam("skip"))
    .limit(1)
    .scalar_subquery()
)
_TRIM = delete(WebHistoryItem).where(
    WebHistoryItem.session_hash == bindparam("session_hash"), WebHistoryItem.id < _OLDEST_KEPT
)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


async def create(db: AsyncSession, token_hash: str) -> None:
    """A new session, last seen now (a Core insert: the ORM's flush of one new object cost
    more than the rest of a session's first message's statements)."""
    now = utcnow()
    conn = await core_connection(db)
    await conn.execute(_CREATE, {"token_hash": token_hash, "created_at": now, "last_seen_at": now})


async def touch_live(db: AsyncSession, token_hash: str, ttl: timedelta) -> bool:
    """Touch the session if it is known and unexpired, and say whether it was (one
    statement)."""
    now = utcnow()
    conn = await core_connection(db)
    result = await conn.execute(
        _TOUCH, {"digest": token_hash, "alive_after": now - ttl, "now": now}
    )
    return result.first() is not None


async def is_live(
    db: AsyncSession, token_hash: str, ttl: timedelta, *, touch: bool = False
) -> bool:
    """Whether the session is known and unexpired (and, with ``touch``, mark it seen now)."""
    if touch:
        return await touch_live(db, token_hash, ttl)
    row = await db.get(WebSession, token_hash)
    return row is not None and _naive(row.last_seen_at) > _naive(utcnow() - ttl)


async def exists(db: AsyncSession, token_hash: str) -> bool:
    """Whether the session is known, expired or not."""
    found = await db.scalar(
        select(WebSession.token_hash).where(WebSession.token_hash == token_hash)
    )
    return found is not None


# ---------------------------------------------------------------- history (bubbles)


async def add_bubbles(db: AsyncSession, token_hash: str, rows: list[dict[str, Any]]) -> None:
    """Append bubbles (``role``, ``payload``) in order: one executemany, no ORM objects."""
    if not rows:
        return
    now = utcnow()
    conn = await core_connection(db)
    await conn.execute(
        _APPEND, [{"session_hash": token_hash, "created_at": now, **row} for row in rows]
    )


async def last_bot_payloads(db: AsyncSession, token_hash: str, limit: int) -> list[Any]:
    """The payloads of the session's last ``limit`` bot bubbles, newest first."""
    payloads = await db.scalars(
        select(WebHistoryItem.payload)
        .where(WebHistoryItem.session_hash == token_hash, WebHistoryItem.role == "bot")
        .order_by(WebHistoryItem.id.desc())
        .limit(limit)
    )
    return list(payloads)


async def trim(db: AsyncSession, token_hash: str, keep: int) -> None:
    """Keep the session's last ``keep`` bubbles (one statement)."""
    conn = await core_connection(db)
    await conn.execute(_TRIM, {"session_hash": token_hash, "skip": keep - 1})


async def last_bubbles(db: AsyncSession, token_hash: str, limit: int) -> list[WebHistoryItem]:
    """The session's last ``limit`` bubbles, oldest first."""
    rows = list(
        await db.scalars(
            select(WebHistoryItem)
            .where(WebHistoryItem.session_hash == token_hash)
            .order_by(WebHistoryItem.id.desc())
            .limit(limit)
        )
    )
    return rows[::-1]
