"""Group commit on SQLite: one writer commits a batch of messages' transactions at a time.

SQLite has one writer, and on the one connection of a process every message's transaction ran
alone: ``BEGIN IMMEDIATE``, its statements, ``COMMIT``. The opening, the commit (writing the
changed pages to the WAL) and the session around them cost about half a millisecond of a
message's two or three (docs/cost.md). Here a writer task opens one transaction for every
message waiting at that moment, and each message runs its own work in a SAVEPOINT of it, one
after the other, in arrival order:

- a message whose work fails is rolled back to its savepoint alone; the others go on;
- nothing of a batch is visible to anyone, and no reply of it is released, before the batch's
  ``COMMIT`` returns: a crash (SIGKILL) loses the whole batch, replies and all, never half;
- when the ``COMMIT`` itself fails, each message of the batch is tried again alone, in a
  transaction of its own (its work runs again from the start; nothing of the first run was
  kept), and a message that fails again gets the error: none is lost, none is stored twice;
- a database that cannot be opened gives every waiting message the error, and the writer
  starts again with the next message.

The write lock is held for one batch: at most ``max_batch`` messages or ``max_batch_seconds``
(whichever comes first), then the batch commits and anything else that waits for the
connection (a webhook, the outbox) gets its turn. The work of a message runs in the message's
own task (its context, its cancellation); the writer only hands out the turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from storage import sqlite_fast

log = logging.getLogger(__name__)

T = TypeVar("T")
Body = Callable[[AsyncSession], Awaitable[T]]

MAX_BATCH = 64
MAX_BATCH_SECONDS = 0.010


class _Retry(Exception):
    """The batch's commit failed: the message is to be tried again alone."""


@dataclass(eq=False)
class _Turn:
    """One message waiting for, or in, a batch."""

    loop: asyncio.AbstractEventLoop
    start: asyncio.Future[AsyncSession] = field(init=False)
    done: asyncio.Future[bool] = field(init=False)  # True: its work is in the batch
    committed: asyncio.Future[None] = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.loop.create_future()
        self.done = self.loop.create_future()
        self.committed = self.loop.create_future()


@dataclass
class GroupCommitStats:
    """What the writer did (for the bench and the tests)."""

    batches: int = 0
    messages: int = 0
    failed_commits: int = 0
    largest: int = 0


class GroupCommit:
    """Runs each message's work in a savepoint of a shared transaction, committed per batch."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = MAX_BATCH,
        max_batch_seconds: float = MAX_BATCH_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._max_seconds = max_batch_seconds
        self._queue: deque[_Turn] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.stats = GroupCommitStats()

    @property
    def idle(self) -> bool:
        """No batch open and nobody waiting for one."""
        return not self._queue and (self._writer is None or self._writer.done())

    async def run(self, body: Body[T]) -> T:
        """Run ``body`` with a session in the next batch; returns its result once the batch
        has committed. Raises what ``body`` raised (its work rolled back), or the error of a
        commit that failed again when the message was tried alone."""
        turn = _Turn(asyncio.get_running_loop())
        self._queue.append(turn)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="sqlite-group-commit")
        try:
            try:
                session = await turn.start
            except _Retry:
                return await self._alone(body)  # the batch could not even begin
            try:
                result = await body(session)
                if _pending(session):
                    await session.commit()  # flushes; the batch's transaction is not committed
            except BaseException:
                turn.done.set_result(False)  # the writer rolls back to the savepoint
                raise
            turn.done.set_result(True)
            try:
                await turn.committed
            except _Retry:
                return await self._alone(body)
            return result
        finally:
            if not turn.done.done():  # cancelled before or at its turn: nothing of it ran
                turn.done.set_result(False)

    async def _alone(self, body: Body[T]) -> T:
        """The message's work again, in a transaction of its own."""
        async with self._sessions() as session, session.begin():
            return await body(session)

    async def _write(self) -> None:
        while self._queue:
            await self._batch()
            # The connection is back in the pool: a transaction that waits for it (a new web
            # session, a webhook, the outbox) takes it now, before the next batch does.
            await asyncio.sleep(0)

    async def _batch(self) -> None:
        outer = self._sessions()
        members: list[_Turn] = []
        current: _Turn | None = None
        try:
            try:
                await outer.begin()
                conn = await outer.connection()  # BEGIN IMMEDIATE: the write lock
            except Exception as exc:
                # No transaction: hand the first waiting message the failure to try alone
                # (it gets the database's own error if it fails too), so nobody waits forever.
                log.warning("group commit: could not begin (%s)", type(exc).__name__)
                self._fail_next(_Retry())
                return
            savepoint = _savepoints(conn)
            transaction = _transaction_of(conn)
            started = time.monotonic()
            while (
                self._queue
                and len(members) < self._max_batch
                and time.monotonic() - started < self._max_seconds
            ):
                turn = self._queue.popleft()
                if turn.start.done():  # its caller was cancelled while it waited
                    continue
                # The message's session works in the batch's transaction without committing
                # it (its commit only flushes); its savepoint is set and undone here, as plain
                # SQL that SQLAlchemy does not track, so that a message's rollback never
                # reaches the batch's transaction.
                session = AsyncSession(
                    bind=conn, join_transaction_mode="rollback_only", expire_on_commit=False
                )
                current = turn
                await savepoint("SAVEPOINT message")
                turn.start.set_result(session)
                try:
                    kept = await asyncio.shield(turn.done)
                finally:
                    await session.close()  # "rollback_only": the transaction is left alone
                if not _active(conn, transaction):
                    # The message's work rolled back the batch's transaction itself (a
                    # session.rollback() in a handler): nothing of the batch is left, so
                    # every message in it is tried again alone.
                    log.warning("group commit: a message ended the batch's transaction")
                    for lost in [*members, *([turn] if kept else [])]:
                        _settle(lost.committed, _Retry())
                    current = None
                    return
                if not kept:
                    await savepoint("ROLLBACK TO message")
                await savepoint("RELEASE message")
                current = None
                if kept:
                    members.append(turn)
            try:
                await outer.commit()
            except Exception as exc:
                # SQLite keeps the transaction open when COMMIT fails (a deferred constraint):
                # end it before anyone is told to try again on this connection.
                with contextlib.suppress(Exception):
                    await outer.rollback()
                if not conn.in_transaction():  # SQLAlchemy is done with it, SQLite is not
                    with contextlib.suppress(Exception):
                        await savepoint("ROLLBACK")
                self.stats.failed_commits += 1
                log.warning(
                    "group commit: a batch of %d did not commit (%s); each is tried alone",
                    len(members),
                    type(exc).__name__,
                )
                for turn in members:
                    _settle(turn.committed, _Retry())
                return
            self.stats.batches += 1
            self.stats.messages += len(members)
            self.stats.largest = max(self.stats.largest, len(members))
            for turn in members:
                _settle(turn.committed, None)
        except BaseException as exc:  # cancelled (shutdown) or a bug: nobody waits forever
            outcome = _Retry() if isinstance(exc, Exception) else exc
            if current is not None:
                _settle(current.start, outcome)
            for turn in [*members, *([current] if current else [])]:
                _settle(turn.committed, outcome)
            while self._queue:
                _settle(self._queue.popleft().start, outcome)
            raise
        finally:
            with contextlib.suppress(Exception):
                await outer.close()

    def _fail_next(self, exc: BaseException) -> None:
        while self._queue:
            turn = self._queue.popleft()
            if not turn.start.done():
                turn.start.set_exception(exc)
                return

    async def close(self) -> None:
        """Stop the writer once the messages in hand are done (at shutdown)."""
        writer = self._writer
        if writer is not None and not writer.done():
            with contextlib.suppress(Exception):
                await writer


def _pending(session: AsyncSession) -> bool:
    """Whether a message's session has anything for its ``commit`` to do: ORM changes to
    flush, or a transaction left failed (its commit raises, so the message is rolled back).
    The per-message statements run on the connection (storage/repositories/_core.py), so
    most messages have neither and skip the session's commit (its greenlet hand-offs and
    bookkeeping); the batch's own commit is what stores them."""
    sync = session.sync_session
    if not sync._is_clean():  # ORM objects added, changed or deleted
        return True
    transaction = sync.get_transaction()
    return transaction is not None and not transaction.is_active


def _transaction_of(conn: AsyncConnection) -> Any:
    sync = conn.sync_connection
    return None if sync is None else sync.get_nested_transaction() or sync.get_transaction()


def _active(conn: AsyncConnection, transaction: Any) -> bool:
    """Whether the batch's transaction (``transaction``) is still the connection's own."""
    return (
        transaction is not None
        and _transaction_of(conn) is transaction
        and bool(transaction.is_active)
    )


def _savepoints(conn: AsyncConnection) -> Callable[[str], Awaitable[None]]:
    """Run a SAVEPOINT statement on the batch's connection: straight on ``sqlite3`` when the
    connection is the inline one (3 µs), else through the driver."""
    fairy = conn.sync_connection.connection if conn.sync_connection is not None else None
    raw = sqlite_fast.raw_sqlite(getattr(fairy, "driver_connection", None))

    async def run(statement: str) -> None:
        if raw is not None:
            await raw[0]._execute(raw[1].execute, statement)
        else:
            await conn.exec_driver_sql(statement)

    return run


def _settle(future: asyncio.Future[Any], outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    elif isinstance(outcome, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(outcome)
