"""Group commit of webhook acknowledgements: one writer task stores the updates of every
webhook request waiting at that moment in one transaction.

A webhook may answer 200 only once its update is durable, so each acknowledgement costs a
commit; on PostgreSQL a commit waits for the write-ahead log to reach the disk, and on SQLite
for the process's one connection. Under load the requests waiting for their commit are stored
together: the first to arrive starts the writer, which takes everything queued, commits it in
one transaction (in arrival order, so a chat's updates keep their order) and then answers each
request; requests that arrive meanwhile form the next batch. Alone, a request is stored at once
as before. Should a batch fail, each request of it is tried again in a transaction of its own,
so that one bad update never refuses the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import webhook_inbox as repo
from storage.repositories.webhook_inbox import Stored

MAX_BATCH = 256  # updates in one transaction


class AckWriter:
    """Stores webhook updates for ``put``; batches the requests that wait together."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._queue: list[tuple[Sequence[Stored], asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # transactions committed (for tests and benches)

    async def put(self, items: Sequence[Stored]) -> int:
        """Store ``items`` durably; how many were new. Raises if they could not be stored."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # its request may be gone: no "never retrieved"
        self._queue.append((items, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="webhook-acks")
        return await asyncio.shield(future)  # a dropped request does not cancel its batch

    async def _write(self) -> None:
        while self._queue:
            batch: list[tuple[Sequence[Stored], asyncio.Future[int]]] = []
            size = 0
            while self._queue and (not batch or size + len(self._queue[0][0]) <= MAX_BATCH):
                entry = self._queue.pop(0)
                batch.append(entry)
                size += len(entry[0])
            try:
                news = await self._store([items for items, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0][1], exc)
                    continue
                await self._one_by_one(batch)
                continue
            for (_, future), new in zip(batch, news, strict=True):
                if not future.done():
                    future.set_result(new)

    async def _store(self, groups: list[Sequence[Stored]]) -> list[int]:
        flat = [item for items in groups for item in items]
        async with self._sessions() as session, session.begin():
            new = await repo.store_each(session, flat)
        self.batches += 1
        counts, start = [], 0
        for items in groups:
            counts.append(sum(new[start : start + len(items)]))
            start += len(items)
        return counts

    async def _one_by_one(self, batch: list[tuple[Sequence[Stored], asyncio.Future[int]]]) -> None:
        for items, future in batch:
            try:
                (new,) = await self._store([items])
            except Exception as exc:
                _fail(future, exc)
            else:
                if not future.done():
                    future.set_result(new)

    async def close(self) -> None:
        """Wait for the requests already queued to be stored."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer


def _fail(future: asyncio.Future[int], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _retrieved(future: asyncio.Future[int]) -> None:
    if not future.cancelled():
        future.exception()
