"""Core statements on an ORM session's connection, for the per-message hot path.

``AsyncSession.execute`` sends even a plain ``INSERT``/``UPDATE`` through the ORM's bulk
persistence path; measured on the inline SQLite connection that costs about 0.5 ms of Python a
statement against 0.06 ms for the same prepared statement run on the connection (docs/cost.md).
The per-message statements (claim, state, rate counters, session touch, log, history) go
through :func:`core_connection` instead, with statements built once and bound parameters.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_KEY = "motcua.core_connection"


async def core_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, with pending ORM changes flushed first (as the ORM's own
    ``execute`` would autoflush), so a Core statement sees them.

    Kept in ``session.info`` for as long as the same transaction is open: asking the session
    for it goes through a greenlet each time, a tenth of a small statement's cost.
    """
    if session.new or session.dirty or session.deleted:
        await session.flush()
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_KEY)
    if (
        cached is not None
        and transaction is not None
        and cached[0] is transaction
        and transaction.is_active
    ):
        conn: AsyncConnection = cached[1]
        return conn
    conn = await session.connection()
    session.info[_KEY] = (session.sync_session.get_transaction(), conn)
    return conn
