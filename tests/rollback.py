"""An application whose every commit is rolled back at the end of the test.

SQLAlchemy's recipe "joining a Session into an external transaction": the test opens one
connection and begins a transaction on it; the application's session factory is bound to that
connection with ``join_transaction_mode="create_savepoint"``, so each ``session.begin()`` /
``commit()`` / ``rollback()`` of the application becomes a SAVEPOINT, its RELEASE or its ROLLBACK
TO. Within the test everything behaves as committed (the next message sees the state the last
one wrote, a failed handler's work is undone); at the end the outer transaction is rolled back
and the shared database is as it was. No database is created or copied per test.

This holds for one connection used by one task at a time: the transcript tests (one citizen, one
message after another). A test about commits themselves (several engines or processes on one
database, concurrent sessions, crashes, leases, the health probe's own connection) asks for a
database of its own with ``@pytest.mark.commits`` (or by using ``database_url`` itself).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

import bot.app
from bot.app import App
from bot.config import Settings
from storage.db import create_engine


@contextlib.contextmanager
def _built_on(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> Iterator[None]:
    """``App.build`` with this engine and session factory instead of new ones."""
    saved = bot.app.create_engine, bot.app.session_factory

    def given_engine(*_args: Any, **_kwargs: Any) -> AsyncEngine:
        return engine

    def given_sessions(_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return sessions

    bot.app.create_engine, bot.app.session_factory = given_engine, given_sessions  # type: ignore[assignment]
    try:
        yield
    finally:
        bot.app.create_engine, bot.app.session_factory = saved


_sequences: dict[str, str] = {}  # database URL -> the statement that puts them back


async def _restore_sequences(conn: AsyncConnection, url: str) -> None:
    """PostgreSQL sequences move outside transactions (a rollback keeps the numbers drawn):
    put them back where the shared database's first test found them, so numbers such as the
    reflection code PA-000001 do not depend on the tests before. SQLite's AUTOINCREMENT
    counters are rows of a table, rolled back with the rest."""
    if conn.dialect.name != "postgresql":
        return
    if url not in _sequences:
        rows = await conn.execute(
            text(
                "SELECT format('%I.%I', schemaname, sequencename), last_value, start_value"
                " FROM pg_sequences"
            )
        )
        calls = [
            f"setval('{name}'::regclass, {last if last is not None else start}, "
            f"{'true' if last is not None else 'false'})"
            for name, last, start in rows
        ]
        _sequences[url] = f"SELECT {', '.join(calls)}" if calls else ""
    if _sequences[url]:
        await conn.execute(text(_sequences[url]))


def joined_sessions(conn: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions that work inside ``conn``'s transaction, each in a SAVEPOINT of its own."""
    return async_sessionmaker(
        bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@contextlib.asynccontextmanager
async def started_app(settings: Settings) -> AsyncIterator[App]:
    """``App.build(settings)`` started like the ``app`` fixture, inside a rolled-back
    transaction on ``settings.database_url`` (already migrated and seeded)."""

    def engine() -> AsyncEngine:
        return create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            sqlite_inline=settings.sqlite_inline,
        )

    # The application's own engine (``App.engine``, disposed by ``App.close``) serves only what
    # bypasses the sessions (the health probe); the sessions use ``outer``'s connection.
    test_engine = engine()
    try:
        async with test_engine.connect() as conn:
            outer = await conn.begin()
            await _restore_sequences(conn, settings.database_url)
            try:
                sessions = joined_sessions(conn)
                with _built_on(engine(), sessions):
                    application = App.build(settings)
                # If App.build stops taking its engine and sessions from these two names, its
                # commits would be real ones on the shared database: fail loudly instead.
                assert application.sessions is sessions, "App.build no longer uses session_factory"
                try:
                    await application.start(migrate_db=False, watch=False)
                    yield application
                finally:
                    await application.close()
            finally:
                if outer.is_active:
                    await outer.rollback()
    finally:
        await test_engine.dispose()
