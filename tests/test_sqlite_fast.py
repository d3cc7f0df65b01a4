"""The hot path's Core statements run straight on sqlite3 (storage/sqlite_fast.py) and write and
read exactly what SQLAlchemy would: the same stored values, defaults and result types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.messages import Channel, ChatRef
from storage.db import create_engine, session_factory
from storage.models import Base, ProcessedEvent, RateCounter
from storage.repositories import chats, roles, web_sessions
from storage.repositories._core import core_connection
from storage.repositories._upsert import insert_ignore


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """The inline engine (fast path) and the threaded one (SQLAlchemy all the way), on two
    databases with the same tables."""
    fast = create_engine(f"sqlite+aiosqlite:///{tmp_path}/fast.db")
    slow = create_engine(f"sqlite+aiosqlite:///{tmp_path}/slow.db", sqlite_inline=False)
    for engine in (fast, slow):
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    try:
        yield fast, slow
    finally:
        await fast.dispose()
        await slow.dispose()


def _sqlalchemy_statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def _write_the_same(session: AsyncSession) -> None:
    """The hot path's writes: a claim (Python default), a history bubble (JSON), a state."""
    await insert_ignore(session, ProcessedEvent, channel="web", event_id="e1")
    await web_sessions.create(session, "s" * 64)
    await web_sessions.add_bubbles(
        session,
        "s" * 64,
        [
            {"role": "user", "payload": {"text": "Xin chào", "n": 1}},
            {"role": "bot", "payload": None},
        ],
    )
    chat = ChatRef(Channel.WEB, "c1", "c1")
    await chats.lock_state(session, chat, key="k1", user_hash="u1")


async def _stored(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row as SQLite holds it (raw SQL: no type conversion)."""
    out = {}
    async with engine.connect() as conn:
        for table in ("processed_events", "web_history", "chat_states"):
            rows = (await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))).all()  # noqa: S608
            out[table] = [tuple(r) for r in rows]
    return out


def _without_times(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows with each timestamp reduced to its format (the two runs differ in time)."""

    def shape(value: Any) -> Any:
        if isinstance(value, str) and len(value) == 26 and value[4] == "-" and value[10] == " ":
            datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
            return "<timestamp>"
        return value

    return {table: [tuple(shape(v) for v in r) for r in rs] for table, rs in rows.items()}


async def test_the_fast_path_stores_what_sqlalchemy_stores(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    fast, slow = engines
    seen = _sqlalchemy_statements(fast)
    for engine in (fast, slow):
        async with session_factory(engine)() as session, session.begin():
            await _write_the_same(session)
    fast_rows, slow_rows = await _stored(fast), await _stored(slow)
    assert fast_rows["processed_events"], "the claim was stored"
    assert _without_times(fast_rows) == _without_times(slow_rows)
    # JSON null stays JSON 'null' (as SQLAlchemy binds it), not SQL NULL.
    assert [r[-1] for r in fast_rows["web_history"]][-1] == "null"
    # The claim, the bubbles and the state upsert did not go through SQLAlchemy's execution.
    hot = [s for s in seen if "processed_events" in s or "web_history" in s]
    assert not [s for s in hot if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]


async def test_results_are_converted_as_sqlalchemy_converts_them(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    fast, _slow = engines
    async with session_factory(fast)() as session, session.begin():
        await roles.grant(
            session,
            user_hash="u" * 40,
            channel="web",
            user_id="x",
            role="admin",
            agency=None,
            alerts=True,
        )
    async with session_factory(fast)() as session, session.begin():
        actor = await roles.actor_of(session, "u" * 40)
        assert actor.role == "admin"
        assert actor.alerts is True  # SQLite's 1, converted to a bool
        conn = await core_connection(session)
        later = datetime.now(UTC) + timedelta(minutes=1)
        result = await conn.execute(
            select(RateCounter.expires_at).where(RateCounter.key == bindparam("key")),
            {"key": "none"},
        )
        assert result.first() is None
        await conn.execute(
            RateCounter.__table__.insert(),
            {"key": "k", "slot": 1, "hits": 2, "expires_at": later},
        )
        stored = (
            await conn.execute(
                select(RateCounter.expires_at, RateCounter.hits).where(
                    RateCounter.key == bindparam("key")
                ),
                {"key": "k"},
            )
        ).one()
        assert isinstance(stored.expires_at, datetime)  # parsed back, as SQLAlchemy does
        assert stored.expires_at == later.replace(tzinfo=None)
        assert stored.hits == 2


async def test_a_statement_it_does_not_reproduce_goes_through_sqlalchemy(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    fast, _slow = engines
    seen = _sqlalchemy_statements(fast)
    async with session_factory(fast)() as session, session.begin():
        for n in range(3):
            await insert_ignore(session, ProcessedEvent, channel="web", event_id=f"e{n}")
        conn = await core_connection(session)
        expanding = select(ProcessedEvent.event_id).where(
            ProcessedEvent.event_id.in_(bindparam("ids", expanding=True))
        )
        rows = (await conn.execute(expanding, {"ids": ["e0", "e2"]})).all()
    assert sorted(r.event_id for r in rows) == ["e0", "e2"]
    assert any(" IN (" in s for s in seen)  # run by SQLAlchemy, which expands the list


async def test_a_redelivered_claim_is_refused_on_the_fast_path(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    fast, _slow = engines
    async with session_factory(fast)() as session, session.begin():
        assert await chats.claim_event(session, "web", "same")
        assert not await chats.claim_event(session, "web", "same")
    async with fast.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM processed_events"))
    assert count == 1


async def test_pending_orm_objects_are_flushed_before_a_core_statement(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """``core_connection`` flushes what the session holds (added, changed or deleted ORM
    objects) before a Core statement runs, as the session's own ``execute`` would, so the
    statement sees them."""
    for engine in engines:
        async with session_factory(engine)() as session, session.begin():
            session.add(ProcessedEvent(channel="web", event_id="orm-1"))
            assert not await chats.claim_event(session, "web", "orm-1")  # added: flushed first
            assert await chats.claim_event(session, "web", "core-2")
            found = select(ProcessedEvent).where(ProcessedEvent.event_id == "orm-1")
            row = (await session.execute(found)).scalar_one()
            row.event_id = "orm-1b"  # changed: flushed before the next statement
            assert not await chats.claim_event(session, "web", "orm-1b")
            assert await chats.claim_event(session, "web", "orm-1")
            await session.delete(row)  # deleted: flushed, so its key is free again
            assert await chats.claim_event(session, "web", "orm-1b")
