"""Core statements on an ORM session's connection, for the per-message hot path.

``AsyncSession.execute`` sends even a plain ``INSERT``/``UPDATE`` through the ORM's bulk
persistence path; measured on the inline SQLite connection that costs about 0.5 ms of Python a
statement against 0.06 ms for the same prepared statement run on the connection (docs/cost.md).
The per-message statements (claim, state, rate counters, session touch, log, history) go
through :func:`core_connection` instead, with statements built once and bound parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from storage import sqlite_fast

_KEY = "motcua.core_connection"


class CoreConnection:
    """The session's connection for the hot path's Core statements.

    On the inline SQLite connection a statement runs straight on ``sqlite3``
    (storage/sqlite_fast.py: a thirtieth of the Python); anywhere else, and for a statement
    that module leaves to SQLAlchemy, through ``AsyncConnection.execute``.
    """

    __slots__ = ("_raw", "conn", "dialect")

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.dialect: Dialect = conn.dialect
        fairy = conn.sync_connection.connection if conn.sync_connection is not None else None
        driver = getattr(fairy, "driver_connection", None)
        self._raw = sqlite_fast.raw_sqlite(driver) if self.dialect.name == "sqlite" else None

    async def execute(
        self,
        stmt: Executable,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> Any:
        raw = self._raw
        if raw is not None and params is not None:
            first = params if isinstance(params, Mapping) else (params[0] if params else None)
            if first is not None:
                keys = tuple(first)
                prep = sqlite_fast.prepared(stmt, self.dialect, keys)  # type: ignore[arg-type]
                if prep is not None and (
                    isinstance(params, Mapping) or all(tuple(p) == keys for p in params)
                ):
                    return await sqlite_fast.execute(raw[0], raw[1], prep, params)
        return await self.conn.execute(stmt, params)


def _is_clean(session: Session) -> bool:
    """No ORM changes to flush: what ``new or dirty or deleted`` says, without building the
    three sets (and through the async proxy) for each of a message's statements."""
    return session._is_clean()


async def core_connection(session: AsyncSession) -> CoreConnection:
    """The session's connection, with pending ORM changes flushed first (as the ORM's own
    ``execute`` would autoflush), so a Core statement sees them.

    Kept in ``session.info`` for as long as the same transaction is open: asking the session
    for it goes through a greenlet each time, a tenth of a small statement's cost.
    """
    sync = session.sync_session
    if not _is_clean(sync):
        await session.flush()
    transaction = sync.get_transaction()
    cached = session.info.get(_KEY)
    if (
        cached is not None
        and transaction is not None
        and cached[0] is transaction
        and transaction.is_active
    ):
        core: CoreConnection = cached[1]
        return core
    core = CoreConnection(await session.connection())
    session.info[_KEY] = (session.sync_session.get_transaction(), core)
    return core
