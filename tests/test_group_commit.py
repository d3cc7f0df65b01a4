"""Group commit on SQLite (storage/group_commit.py): messages committed a batch at a time, each in
a savepoint; a failed message or a failed batch loses nothing and stores nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.db import create_engine, session_factory
from storage.group_commit import GroupCommit

SCHEMA = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
    # Checked at COMMIT: a violation fails the batch's commit, not the statement.
    "CREATE TABLE item (tag TEXT PRIMARY KEY,"
    " parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
    "INSERT INTO parent VALUES (1)",
]


async def _create(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for statement in SCHEMA:
            await conn.execute(text(statement))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/db/g.db")
    await _create(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


def _insert(tag: str, parent: int = 1, *, fail: bool = False):  # type: ignore[no-untyped-def]
    async def body(session: AsyncSession) -> str:
        await session.execute(
            text("INSERT INTO item (tag, parent_id) VALUES (:tag, :parent)"),
            {"tag": tag, "parent": parent},
        )
        if fail:
            raise RuntimeError(f"handler failed on {tag}")
        return tag

    return body


async def _tags(engine: AsyncEngine) -> list[str]:
    """What another connection sees: only what was committed."""
    other = create_engine(str(engine.url))
    try:
        async with other.connect() as conn:
            return list((await conn.execute(text("SELECT tag FROM item ORDER BY tag"))).scalars())
    finally:
        await other.dispose()


async def test_messages_waiting_together_commit_in_one_batch_before_any_returns(
    engine: AsyncEngine,
) -> None:
    group = GroupCommit(session_factory(engine))
    seen_at_return: dict[str, list[str]] = {}

    async def message(tag: str) -> None:
        await group.run(_insert(tag))
        seen_at_return[tag] = await _tags(engine)

    await asyncio.gather(*(message(f"m{n:02}") for n in range(20)))
    assert await _tags(engine) == [f"m{n:02}" for n in range(20)]
    assert group.stats.messages == 20
    assert group.stats.batches < 20  # several messages shared a commit
    assert group.stats.largest > 1
    for tag, seen in seen_at_return.items():
        assert tag in seen  # a caller gets its result only once its batch has committed


async def test_a_failed_message_is_rolled_back_alone_and_its_caller_gets_the_error(
    engine: AsyncEngine,
) -> None:
    group = GroupCommit(session_factory(engine))
    bodies = [_insert(f"m{n}", fail=n == 2) for n in range(5)]
    results = await asyncio.gather(*(group.run(b) for b in bodies), return_exceptions=True)
    assert results[:2] == ["m0", "m1"]
    assert isinstance(results[2], RuntimeError)
    assert results[3:] == ["m3", "m4"]
    assert await _tags(engine) == ["m0", "m1", "m3", "m4"]  # m2's insert was undone
    assert group.stats.largest == 4  # and the others still shared one commit


async def test_a_batch_whose_commit_fails_is_tried_message_by_message(
    engine: AsyncEngine,
) -> None:
    group = GroupCommit(session_factory(engine))
    # m3 names a parent that does not exist: the deferred check fails the batch's COMMIT.
    bodies = [_insert(f"m{n}", parent=99 if n == 3 else 1) for n in range(6)]
    results = await asyncio.gather(*(group.run(b) for b in bodies), return_exceptions=True)
    assert group.stats.failed_commits >= 1
    assert isinstance(results[3], IntegrityError)  # the bad one fails again alone: its error
    assert [r for n, r in enumerate(results) if n != 3] == ["m0", "m1", "m2", "m4", "m5"]
    # Every other message stored exactly once (the primary key would refuse a second copy,
    # and the retry ran on a rolled-back batch), the bad one not at all.
    assert await _tags(engine) == ["m0", "m1", "m2", "m4", "m5"]


async def test_a_database_that_went_away_fails_every_waiting_message_and_none_hangs(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = GroupCommit(session_factory(engine))
    assert await group.run(_insert("before")) == "before"
    await engine.dispose()  # the pooled connection closed ...
    shutil.rmtree(tmp_path / "db")  # ... and the database gone with its folder
    results = await asyncio.wait_for(
        asyncio.gather(*(group.run(_insert(f"m{n}")) for n in range(8)), return_exceptions=True),
        timeout=30,
    )
    assert all(isinstance(r, DBAPIError) for r in results), results
    assert "unable to open database file" in str(results[0])
    # Back again (an operator restored the folder): the writer carries on.
    (tmp_path / "db").mkdir()
    await _create(engine)
    assert await group.run(_insert("after")) == "after"
    assert await _tags(engine) == ["after"]


async def test_a_caller_cancelled_while_waiting_runs_nothing_and_the_batch_goes_on(
    engine: AsyncEngine,
) -> None:
    group = GroupCommit(session_factory(engine))
    release = asyncio.Event()

    async def slow(session: AsyncSession) -> str:
        await session.execute(text("INSERT INTO item (tag, parent_id) VALUES ('slow', 1)"))
        await release.wait()  # holds the batch open while the others queue
        return "slow"

    first = asyncio.create_task(group.run(slow))
    await asyncio.sleep(0.05)
    cancelled = asyncio.create_task(group.run(_insert("cancelled")))
    kept = asyncio.create_task(group.run(_insert("kept")))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    release.set()
    assert await first == "slow"
    assert await kept == "kept"
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await _tags(engine) == ["kept", "slow"]


async def test_a_message_that_rolls_back_the_whole_transaction_loses_no_other(
    engine: AsyncEngine,
) -> None:
    group = GroupCommit(session_factory(engine))

    async def rogue(session: AsyncSession) -> str:
        await session.execute(text("INSERT INTO item (tag, parent_id) VALUES ('rogue', 1)"))
        await session.rollback()  # ends the batch's transaction, not just its own work
        return "rogue"

    bodies = [_insert("m0"), _insert("m1"), rogue, _insert("m3"), _insert("m4")]
    results = await asyncio.gather(*(group.run(b) for b in bodies))
    assert results == ["m0", "m1", "rogue", "m3", "m4"]
    # Each tried again alone where the batch was lost: all stored once; the rogue's own
    # rollback, alone, undoes only its own insert.
    assert await _tags(engine) == ["m0", "m1", "m3", "m4"]


class _Base(DeclarativeBase):
    pass


class _Item(_Base):
    __tablename__ = "item"
    tag: Mapped[str] = mapped_column(String, primary_key=True)
    parent_id: Mapped[int] = mapped_column(Integer)


async def test_orm_objects_a_message_leaves_unflushed_are_stored_with_its_batch(
    engine: AsyncEngine,
) -> None:
    """A message's session is committed (flushed) only when it holds ORM changes; a message
    that added objects without flushing still has them stored, next to messages that ran
    plain statements only."""
    group = GroupCommit(session_factory(engine))

    def orm(tag: str):  # type: ignore[no-untyped-def]
        async def body(session: AsyncSession) -> str:
            session.add(_Item(tag=tag, parent_id=1))
            return tag

        return body

    bodies = [orm(f"o{n}") if n % 2 else _insert(f"m{n}") for n in range(6)]
    assert await asyncio.gather(*(group.run(b) for b in bodies)) == [
        "m0",
        "o1",
        "m2",
        "o3",
        "m4",
        "o5",
    ]
    assert await _tags(engine) == ["m0", "m2", "m4", "o1", "o3", "o5"]
    assert group.stats.largest > 1


async def test_a_message_whose_flush_failed_and_was_swallowed_stores_nothing_of_it(
    engine: AsyncEngine,
) -> None:
    """A handler that catches the error of a failed flush leaves its session's transaction
    failed: the message still ends in an error and nothing of it is stored."""
    group = GroupCommit(session_factory(engine))

    async def swallowed(session: AsyncSession) -> str:
        await session.execute(text("INSERT INTO item (tag, parent_id) VALUES ('s0', 1)"))
        session.add(_Item(tag="m0", parent_id=1))  # m0 is taken by the first message
        with contextlib.suppress(IntegrityError):
            await session.flush()
        return "s"

    results = await asyncio.gather(
        group.run(_insert("m0")),
        group.run(swallowed),
        group.run(_insert("m1")),
        return_exceptions=True,
    )
    assert results[0] == "m0" and results[2] == "m1"
    assert isinstance(results[1], Exception)
    assert await _tags(engine) == ["m0", "m1"]
