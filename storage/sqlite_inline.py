"""SQLite statements run on the event loop's own thread, not on aiosqlite's worker thread.

aiosqlite sends every call (cursor, execute, fetch, close, commit) to a worker thread and back:
a message made about 60 such round trips, each a thread hand-off that costs far more than the
statement itself (a small SQLite statement on a WAL database takes microseconds). Profiled, the
hand-offs were most of a web message's cost (docs/cost.md). This connection keeps aiosqlite's
interface, which SQLAlchemy's ``sqlite+aiosqlite`` dialect drives, but runs each call at once.

What would block the loop is waiting for another process's write lock; so SQLite's own busy
handler is off (``busy_timeout=0``) and a call refused with ``SQLITE_BUSY`` is retried here
with ``asyncio.sleep`` in between, until the busy timeout passes. Statements that are refused
with ``SQLITE_BUSY`` did nothing, so running them again is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite

SQLITE_BUSY = 5
FIRST_BACKOFF_S = 0.001
MAX_BACKOFF_S = 0.05


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == SQLITE_BUSY)
    return "database is locked" in str(exc)


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread: runs the job at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, like aiosqlite does
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An ``aiosqlite.Connection`` without its thread (see the module's docstring)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout_s: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InlineQueue()  # type: ignore[assignment]
        self._busy_timeout_s = busy_timeout_s

    def __await__(self) -> Any:
        return self._connect().__await__()  # no worker thread to start

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = time.monotonic() + self._busy_timeout_s
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(backoff)  # another process writes: let this loop run meanwhile
            backoff = min(backoff * 2, MAX_BACKOFF_S)


async def connect(database: str, *, busy_timeout_s: float) -> InlineConnection:
    """Open ``database`` (a path, ``:memory:`` or a ``file:`` URI) for the inline connection."""
    connector = partial(
        sqlite3.connect,
        database,
        isolation_level=None,
        check_same_thread=False,  # the pool may close it from a finaliser's thread
        uri=database.startswith("file:"),
    )
    return await InlineConnection(connector, busy_timeout_s)


def begin_immediate_inline(conn: Any) -> bool:
    """``BEGIN IMMEDIATE`` straight on the inline connection's ``sqlite3`` connection (a
    SQLAlchemy ``begin`` event's ``conn``); False when it must go through SQLAlchemy instead:
    another driver, another process holding the write lock (the driver's path waits for it
    without blocking the loop), or any error (raised there, wrapped as SQLAlchemy's)."""
    driver = getattr(conn.connection, "driver_connection", None)
    if not isinstance(driver, InlineConnection) or driver._connection is None:
        return False
    try:
        driver._connection.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        return False
    return True
