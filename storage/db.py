"""Engine and session factories for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_inline import begin_immediate_inline
from storage.sqlite_inline import connect as inline_connect

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, sqlite_inline: bool = True
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and write-locking transactions.

    SQLite transactions start with ``BEGIN IMMEDIATE`` so that a conversation's read-modify-write
    takes the write lock up front: the SQLite analogue of ``SELECT ... FOR UPDATE``.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # One connection per process: SQLite has one writer anyway, and queueing for the pool is
        # fair and immediate where SQLite's busy handler sleeps and retries (latency spikes).
        # Statements run on the loop's thread (storage/sqlite_inline.py): a thread hand-off per
        # call cost more than the statements; waits for another process's lock still yield.
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,  # SQL parameters hold chat ids: never in logs or errors
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            **(
                {
                    "async_creator": partial(
                        inline_connect,
                        database,
                        busy_timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000,
                    )
                }
                if sqlite_inline
                else {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
            ),
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # Inline, busy waits yield in sqlite_inline instead of SQLite's sleeping handler.
            cur.execute(f"PRAGMA busy_timeout={0 if sqlite_inline else SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            if sqlite_inline and begin_immediate_inline(conn):
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,  # SQL parameters hold chat ids: never in logs or errors
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
