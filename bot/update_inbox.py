"""Webhook updates stored before they are acknowledged, then handled from the store.

A webhook (Telegram, Zalo OA, Zalo Bot) checks its secret or signature, parses the body, and
calls ``put``: the update is committed to ``inbound_updates`` (a redelivery of a stored update
is ignored), the local worker is woken, and only then does the webhook answer 200. The
acknowledgement therefore costs one small insert, not the handling, and an update the platform
got its 200 for survives the process that received it.

Every process that runs a webhook channel runs one ``UpdateInbox`` worker. It claims the oldest
pending updates with a lease (``storage.repositories.webhook_inbox.claim``: only the head of
each chat, so a chat's updates go one at a time and in order, across all workers), hands each
to its channel's handler, and marks it done. While it handles, it renews its leases every
third of a lease; a worker killed mid-handling stops renewing, and once its leases expire
another worker takes its rows over. Handling the same update twice
(a takeover after a handler that did commit) is harmless: the dispatcher's processed-events
claim still lets each update through exactly once.

A handler that raises (its channel is not ready yet, the database failed) leaves the update
pending; it is tried again after ``retry_seconds``, and given up after ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.privacy import keyed_hash
from storage.models import utcnow
from storage.repositories import webhook_inbox as repo
from storage.repositories.webhook_inbox import Claimed, Stored
from storage.update_acks import AckWriter

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]
"""A channel's handler: receives the stored JSON value, returns once it is handled."""


class NotReady(Exception):
    """Raised by a handler that cannot handle yet (its channel is starting): try again later."""


@dataclass(frozen=True, slots=True)
class InboxTuning:
    """Leases and pacing. Leases are renewed while the update is handled, so ``lease_seconds``
    only bounds how long a dead worker's updates wait for another worker."""

    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    retry_seconds: float = 2.0
    max_attempts: int = 5
    concurrency: int = 64
    # Claim nothing new while the event loop runs callbacks later than this (the handling in
    # hand is using the process's CPU): a webhook's acknowledgement is one of those callbacks,
    # and stored updates wait safely in the store meanwhile (docs/cost.md).
    max_loop_lag_seconds: float = 0.02
    # ... but for no longer than this at a time: when the loop is late because the machine is
    # busy (not this process's handling), or what is in hand waits for a platform's limits,
    # claiming must go on.
    max_hold_seconds: float = 0.5


@dataclass(frozen=True, slots=True)
class Update:
    """One update a webhook hands over: the platform's id, its chat, the JSON to keep."""

    event_id: str
    chat_id: str
    payload: Mapping[str, Any] | Sequence[Any]


class LoopLag:
    """How late this process's event loop runs a callback that is due: the wait a webhook
    request also sees before it is read, stored and acknowledged. Sampled every
    ``INTERVAL_S``; a late sample counts at once, and decays by half a sample."""

    INTERVAL_S = 0.01

    def __init__(self) -> None:
        self.seconds = 0.0

    def observe(self, late: float) -> None:
        self.seconds = max(late, self.seconds / 2)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.INTERVAL_S
            await asyncio.sleep(self.INTERVAL_S)
            self.observe(max(0.0, loop.time() - due))


def _owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class UpdateInbox:
    """The store-then-handle queue of one process, shared by its webhook channels."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        secret: bytes,
        tuning: InboxTuning | None = None,
        owner: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._secret = secret
        self.tuning = tuning or InboxTuning()
        self.owner = owner or _owner()
        self._handlers: dict[str, Handler] = {}
        self._active: set[str] = set()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._acks = AckWriter(sessions)
        self.lag = LoopLag()
        self._lag_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ receiving

    def route(self, channel: str, handler: Handler) -> None:
        """Handle ``channel``'s stored updates with ``handler`` (once the channel is started)."""
        self._handlers[channel] = handler

    def chat_key(self, channel: str, chat_id: str) -> str:
        """A chat as the inbox keeps it: a keyed hash, never the platform's id."""
        return keyed_hash(self._secret, "inbox", channel, chat_id)[:40]

    async def put(self, channel: str, updates: Sequence[Update]) -> int:
        """Store updates durably (in one transaction, in the order given) and wake the worker.

        Returns how many were new; a redelivery of a stored update counts 0. Raises if the
        database refuses the write: the webhook must then not acknowledge.
        """
        items = [
            Stored(
                channel,
                u.event_id,
                self.chat_key(channel, u.chat_id),
                json.dumps(u.payload, ensure_ascii=False),
            )
            for u in updates
        ]
        if not items:
            return 0
        new = await self._acks.put(items)
        if new:
            self._wake.set()
        return new

    # ------------------------------------------------------------ lifecycle

    async def start(self, channel: str) -> None:
        """Begin handling ``channel``'s updates (the worker starts with the first channel)."""
        self._active.add(channel)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="update-inbox")
            self._renewer = asyncio.create_task(self._renew(), name="update-inbox-leases")
            self._lag_task = asyncio.create_task(self.lag.run(), name="update-inbox-loop-lag")
        self._wake.set()

    async def stop(self, channel: str, seconds: float = 10.0) -> None:
        """Stop handling ``channel``; with the last channel, stop the worker: updates still in
        hand after ``seconds`` are interrupted and left for the next worker to take."""
        self._active.discard(channel)
        if self._active:
            return
        runner, self._runner = self._runner, None
        if runner is not None:
            # The runner ends at its next turn (it sees no active channel); cancelled only if it
            # does not: cancelling it inside a claim's query could leave that query's connection
            # to be cleaned up mid-flight (on PostgreSQL, a stop that hung).
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(runner), seconds)
            except TimeoutError:
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
        tasks = list(self._inflight.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for helper in (self._renewer, self._lag_task):
            if helper is not None:
                helper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await helper
        self._renewer = self._lag_task = None
        await self._acks.close()

    async def drain(self, channel: str, seconds: float | None = None) -> bool:
        """Wait until no update of ``channel`` waits in the store (whichever worker handles
        it); False if some still did after ``seconds`` (default: 30)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (30.0 if seconds is None else seconds)
        while True:
            async with self._sessions() as session:
                left = await repo.pending(session, (channel,))
            if left == 0:
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), min(remaining, 0.05))

    # ------------------------------------------------------------ the worker

    async def _run(self) -> None:
        held_since: float | None = None  # since when claiming waits for the loop to catch up
        while self._active:
            t = self.tuning
            self._wake.clear()
            free = t.concurrency - len(self._inflight)
            loop_time = asyncio.get_running_loop().time()
            if self._inflight and self.lag.seconds > t.max_loop_lag_seconds:
                held_since = loop_time if held_since is None else held_since
                if loop_time - held_since < t.max_hold_seconds:
                    free = 0  # the loop is behind: finish what is in hand (acks come first)
            else:
                held_since = None
            claimed: list[Claimed] = []
            channels = [c for c in self._active if c in self._handlers]
            if free > 0 and channels:
                try:
                    async with self._sessions() as session, session.begin():
                        claimed = await repo.claim(
                            session,
                            channels=channels,
                            owner=self.owner,
                            lease=timedelta(seconds=t.lease_seconds),
                            limit=free,
                            exclude=tuple(self._inflight),
                        )
                except Exception as exc:
                    log.warning("inbox: claiming updates failed (%s)", type(exc).__name__)
            for row in claimed:
                self._inflight[row.id] = asyncio.create_task(self._handle(row))
            if claimed and len(claimed) == free:
                continue  # there may be more heads waiting
            # Behind, look again soon (the wake-up of a finished update may come first).
            wait = LoopLag.INTERVAL_S * 2 if free == 0 and self._inflight else t.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _renew(self) -> None:
        """Extend the leases of the updates in hand every third of a lease: a live worker
        keeps what it handles however long that takes (a reply held by flood limits), a dead
        one stops renewing and loses its updates one lease later."""
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while True:
            await asyncio.sleep(min(self.tuning.poll_seconds, self.tuning.lease_seconds / 3))
            if not self._inflight or loop.time() - renewed < self.tuning.lease_seconds / 3:
                continue
            renewed = loop.time()
            try:
                async with self._sessions() as session, session.begin():
                    await repo.renew(
                        session,
                        tuple(self._inflight),
                        self.owner,
                        utcnow() + timedelta(seconds=self.tuning.lease_seconds),
                    )
            except Exception as exc:
                log.warning("inbox: could not renew leases (%s)", type(exc).__name__)

    async def _handle(self, row: Claimed) -> None:
        try:
            await self._attempt(row)
        finally:
            self._inflight.pop(row.id, None)
            self._wake.set()  # this chat's next update may now be claimed
            self._idle.set()

    async def _attempt(self, row: Claimed) -> None:
        handler = self._handlers[row.channel]
        try:
            await handler(json.loads(row.payload))
        except asyncio.CancelledError:
            await self._later(row, 0.0)  # stopped mid-handling: free it for the next worker
            raise
        except NotReady:
            await self._later(row, self.tuning.retry_seconds)  # not counted as a failure
            return
        except Exception as exc:
            if row.attempts >= self.tuning.max_attempts:
                log.error(
                    "inbox: a %s update given up after %d attempts (%s)",
                    row.channel,
                    row.attempts,
                    type(exc).__name__,
                )
                await self._finish(row, failed=True)
                return
            log.warning(
                "inbox: a %s update failed, will retry (%s)", row.channel, type(exc).__name__
            )
            await self._later(row, self.tuning.retry_seconds)
            return
        await self._finish(row, failed=False)

    async def _finish(self, row: Claimed, *, failed: bool) -> None:
        try:
            async with self._sessions() as session, session.begin():
                await repo.finish(session, row.id, failed=failed)
        except Exception as exc:
            # The lease runs out and another worker takes the row; the dispatcher drops it.
            log.warning("inbox: could not mark an update handled (%s)", type(exc).__name__)

    async def _later(self, row: Claimed, seconds: float) -> None:
        with contextlib.suppress(Exception):
            async with self._sessions() as session, session.begin():
                when = utcnow() + timedelta(seconds=seconds)
                await repo.retry_at(session, row.id, self.owner, when)

    @property
    def busy(self) -> Collection[int]:
        """Ids of the stored updates this process is handling now."""
        return tuple(self._inflight)
