"""WAL checkpoints on a worker thread (storage/sqlite_checkpoint.py): none inside a commit on
the event loop, and the log still stays short."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine
from storage.sqlite_checkpoint import BackgroundCheckpoint


async def test_commits_leave_checkpoints_to_the_thread_and_the_log_stays_short(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    wal = tmp_path / "c.db-wal"
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER, pad TEXT)"))
        checkpoint = BackgroundCheckpoint(engine, interval=3600)  # run by hand below
        assert await checkpoint.start()
        async with engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA wal_autocheckpoint")) == 0
        for n in range(400):  # about 1,600 pages: past the automatic checkpoint's mark
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO t VALUES (:n, :pad)"), {"n": n, "pad": "x" * 12_000}
                )
        grown = wal.stat().st_size
        assert grown > 1000 * 4096  # no commit checkpointed (on the loop's thread)
        busy, frames, copied = await checkpoint.checkpoint() or (1, 0, 0)
        assert busy == 0 and frames == copied > 1000  # the whole log copied back, off the loop
        async with engine.begin() as conn:  # the next write starts the log again
            await conn.execute(text("INSERT INTO t VALUES (-1, '')"))
        other = sqlite3.connect(tmp_path / "c.db")
        try:
            row = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            other.close()
        assert row[1] < 10  # a few frames, not the 1,600 before
        await checkpoint.close()
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM t")) == 401
    finally:
        await engine.dispose()


async def test_the_task_checkpoints_on_its_own(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/d.db")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        checkpoint = BackgroundCheckpoint(engine, interval=0.02)
        assert await checkpoint.start()
        await asyncio.sleep(0.3)
        assert checkpoint.checkpoints >= 3
        await checkpoint.close()
    finally:
        await engine.dispose()


async def test_checkpoints_aside_do_not_hold_the_connection_and_a_long_log_is_caught_up(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/e.db")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER, pad TEXT)"))
        checkpoint = BackgroundCheckpoint(engine, interval=0.05, catch_up_frames=200)
        assert await checkpoint.start()
        async with engine.begin() as conn:  # a transaction open: the connection is held ...
            await conn.execute(text("INSERT INTO t VALUES (0, '')"))
            found = await asyncio.wait_for(checkpoint.checkpoint_aside(), 5)  # ... no wait
            assert found is not None and found[0] == 0
        for n in range(300):  # the log grows past catch_up_frames
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO t VALUES (:n, :pad)"), {"n": n, "pad": "x" * 5000}
                )
            await asyncio.sleep(0)
        await asyncio.sleep(0.3)
        assert checkpoint.held >= 1  # caught up while holding the connection
        await checkpoint.close()
    finally:
        await engine.dispose()
