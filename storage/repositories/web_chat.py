"""The web chat's per-message statements: session touch, history append and trim.

Core statements built once, with bound parameters, run on the session's connection
(storage/repositories/_core.py): they run for every web message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebSession
from storage.models_web import WebHistoryItem
from storage.repositories._core import core_connection

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


async def touch_session(
    session: AsyncSession, digest: str, *, alive_after: datetime, now: datetime
) -> bool:
    """Touch a session seen after ``alive_after``; False when it is unknown or expired."""
    conn = await core_connection(session)
    result = await conn.execute(_TOUCH, {"digest": digest, "alive_after": alive_after, "now": now})
    return result.first() is not None


async def append_history(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert history bubbles, in order, by one executemany."""
    conn = await core_connection(session)
    await conn.execute(_APPEND, rows)


async def trim_history(session: AsyncSession, session_hash: str, keep: int) -> None:
    """Keep the session's last ``keep`` items (one statement)."""
    conn = await core_connection(session)
    await conn.execute(_TRIM, {"session_hash": session_hash, "skip": keep - 1})
