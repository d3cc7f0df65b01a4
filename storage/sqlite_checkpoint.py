"""WAL checkpoints off the event loop's thread, for a serving process on SQLite.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with an fsync)
whenever the log passes 1,000 pages, inside the ``COMMIT`` that crossed the mark. With the
statements on the event loop's thread (storage/sqlite_inline.py), that commit held every
request: measured, checkpoints were about 60 % of the mean cost of a commit, and single commits
took up to 14 ms (docs/cost.md). Here the serving process turns the automatic checkpoint off on
its connection and runs one every ``interval`` seconds on a worker thread instead, on a
connection of its own, while the process goes on writing: the copying and the fsync hold
nobody. Under continuous writes such a checkpoint never catches up with the last commit, and the
log only starts again from the beginning once a checkpoint has copied all of it; so when the log
has grown past ``catch_up_frames``, the next checkpoint runs while it holds the process's one
connection (no write of this process meanwhile): it copies only what the last one left, and the
log restarts. The event loop keeps serving what needs no database meanwhile; a message waits
for the connection as it would for any other transaction.

A PASSIVE checkpoint never waits for another process; what it could not copy is copied by the
next one. If this process dies, the log is checkpointed by the next process that opens the
database, as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_fast

log = logging.getLogger(__name__)

INTERVAL_S = 0.5
CATCH_UP_FRAMES = 4000  # 16 MB of 4 KiB pages


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class BackgroundCheckpoint:
    """Checkpoints the WAL every ``interval`` seconds on a worker thread (see the module)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        interval: float = INTERVAL_S,
        catch_up_frames: int = CATCH_UP_FRAMES,
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._catch_up = catch_up_frames
        self._task: asyncio.Task[None] | None = None
        self._side: sqlite3.Connection | None = None
        self.checkpoints = 0
        self.held = 0  # checkpoints run while holding the process's connection

    async def start(self) -> bool:
        """Turn the automatic checkpoint off and start the task; False (and nothing changed)
        when the connection is not the inline one."""
        database = self._engine.url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return False
        async with self._engine.connect() as conn:
            raw = await _raw(conn)
            if raw is None:
                return False
            self._side = await asyncio.to_thread(
                sqlite3.connect, database, check_same_thread=False, isolation_level=None
            )
            event.listen(self._engine.sync_engine, "connect", _no_autocheckpoint)
            raw.execute("PRAGMA wal_autocheckpoint=0")
        self._task = asyncio.create_task(self._run(), name="sqlite-checkpoint")
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                found = await self.checkpoint_aside()
                if found is not None and found[1] > self._catch_up:
                    await self.checkpoint()
            except Exception as exc:  # the next round tries again; a WAL that grows is no loss
                log.warning("sqlite checkpoint failed (%s)", type(exc).__name__)

    async def checkpoint_aside(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint on a worker thread and a connection of its own, while the
        process goes on writing: (busy, frames in the log, frames copied)."""
        side = self._side
        if side is None:
            return None
        row = await asyncio.to_thread(
            lambda: side.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        )
        self.checkpoints += 1
        return (int(row[0]), int(row[1]), int(row[2])) if row else None

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
        self.held += 1
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
        if self._side is not None:
            self._side.close()
            self._side = None


async def _raw(conn: Any) -> Any:
    fairy = await conn.get_raw_connection()
    found = sqlite_fast.raw_sqlite(getattr(fairy, "driver_connection", None))
    return found[1] if found is not None else None
