"""WAL checkpoints off the event loop's thread, for a serving process on SQLite.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with an fsync)
whenever the log passes 1,000 pages, inside the ``COMMIT`` that crossed the mark. With the
statements on the event loop's thread (storage/sqlite_inline.py), that commit held every
request: measured, checkpoints were about 60 % of the mean cost of a commit, and single commits
took up to 14 ms (docs/cost.md). Here the serving process turns the automatic checkpoint off on
its connection and runs one every ``interval`` seconds on a worker thread instead, while it
holds the process's one connection (so no write of this process runs meanwhile, the checkpoint
completes, and the next write starts the log again from the beginning: it stays small). The
event loop keeps serving what needs no database meanwhile; a message waits for the connection
as it would for any other transaction.

A PASSIVE checkpoint never waits for another process; what it could not copy is copied by the
next one. If this process dies, the log is checkpointed by the next process that opens the
database, as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_fast

log = logging.getLogger(__name__)

INTERVAL_S = 0.5


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class BackgroundCheckpoint:
    """Checkpoints the WAL every ``interval`` seconds on a worker thread (see the module)."""

    def __init__(self, engine: AsyncEngine, *, interval: float = INTERVAL_S) -> None:
        self._engine = engine
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.checkpoints = 0

    async def start(self) -> bool:
        """Turn the automatic checkpoint off and start the task; False (and nothing changed)
        when the connection is not the inline one."""
        async with self._engine.connect() as conn:
            raw = await _raw(conn)
            if raw is None:
                return False
            event.listen(self._engine.sync_engine, "connect", _no_autocheckpoint)
            raw.execute("PRAGMA wal_autocheckpoint=0")
        self._task = asyncio.create_task(self._run(), name="sqlite-checkpoint")
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.checkpoint()
            except Exception as exc:  # the next round tries again; a WAL that grows is no loss
                log.warning("sqlite checkpoint failed (%s)", type(exc).__name__)

    async def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint on a worker thread, holding the process's connection:
        (busy, frames in the log, frames copied), as SQLite reports them."""
        async with self._engine.connect() as conn:
            raw = await _raw(conn)
            if raw is None:
                return None
            row = await asyncio.to_thread(
                lambda: raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            )
        self.checkpoints += 1
        return (int(row[0]), int(row[1]), int(row[2])) if row else None

    async def close(self) -> None:
        """Stop, then one last checkpoint so the log is left short."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        with contextlib.suppress(Exception):
            await self.checkpoint()
        event.remove(self._engine.sync_engine, "connect", _no_autocheckpoint)


async def _raw(conn: Any) -> Any:
    fairy = await conn.get_raw_connection()
    found = sqlite_fast.raw_sqlite(getattr(fairy, "driver_connection", None))
    return found[1] if found is not None else None
