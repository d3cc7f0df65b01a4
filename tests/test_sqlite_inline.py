"""SQLite statements run on the loop's thread; a wait for another writer yields, never blocks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine
from storage.sqlite_inline import InlineConnection


async def test_statements_run_on_the_loop_thread(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/a.db")
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_a_writer_waits_for_another_connections_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/b.db"
    first, second = create_engine(url), create_engine(url)
    try:
        async with first.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        tick_task = asyncio.create_task(ticker())
        async with first.begin() as holder:  # BEGIN IMMEDIATE: the write lock is held
            await holder.execute(text("INSERT INTO t VALUES (1)"))

            async def write() -> None:
                async with second.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (2)"))

            waiting = asyncio.create_task(write())
            await asyncio.sleep(0.3)
            assert not waiting.done()  # it waits for the lock (no "database is locked" error)
            assert ticks >= 10  # and the loop kept running meanwhile
        await asyncio.wait_for(waiting, 5)  # the lock released: the write goes through
        tick_task.cancel()
        async with second.connect() as conn:
            rows = (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
        assert rows == [1, 2]
    finally:
        await first.dispose()
        await second.dispose()


async def test_sqlite_inline_false_keeps_aiosqlites_thread(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/c.db", sqlite_inline=False)
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert not isinstance(raw.driver_connection, InlineConnection)
            assert await conn.scalar(text("PRAGMA busy_timeout")) == 30_000
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()
