"""The shape of a channel adapter, and the parts every adapter shares.

An adapter only translates: a platform's event becomes an ``Incoming`` for the dispatcher,
and the dispatcher's ``Reply`` objects become the platform's messages. What every adapter
needs besides its translation lives here, once:

- ``ChannelAdapter``: the interface the app and the outbox use (start, stop, drain, register
  routes, deliver);
- ``ChatLocks``: one fair lock per chat, so that a chat's updates are handled, and its
  replies sent, in the order they came;
- ``TaskSet``: replies handed to the background after a webhook was acknowledged, drained at
  shutdown;
- ``Backoff``: the one retry policy (exponential, capped, with jitter) for network failures,
  5xx and rate limits;
- ``Reachability``: marking a chat that blocked the bot or left, so that notifications stop;
- ``secret_matches``: the webhook secret header compared in constant time;
- ``numbered_turn`` and ``menu_text``: the one numbered-menu renderer for channels without
  buttons (Zalo Bot, the terminal) and for lists too long for buttons (Zalo OA). The
  dispatcher maps a typed "1", "2"... to the choices of the turn, so numbering continues
  across the turn's replies.

The rate limits shared by every worker are ``bot.ratelimit``; the webhook inbox that stores an
update before it is acknowledged is ``bot.update_inbox``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from weakref import WeakValueDictionary

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import DeliveryResult
from bot.domain.privacy import keyed_hash
from bot.messages import Channel, Choice, Reply
from bot.update_inbox import UpdateInbox
from storage.repositories import recipients

log = logging.getLogger(__name__)

CHOOSE = "Mời bạn chọn:"


@runtime_checkable
class ChannelAdapter(Protocol):
    """What the app and the outbox worker need from a channel (see README, "Adding a
    channel")."""

    channel: Channel

    async def start(self) -> None:
        """Begin receiving (poll, or wait for webhook calls); never blocks on the platform."""

    async def stop(self) -> None:
        """Stop receiving, let what is in progress finish (bounded), close clients."""

    async def drain(self, seconds: float | None = None) -> None:
        """Wait until every received update has been handled and its replies sent."""

    def register(self, app: web.Application) -> None:
        """Add the channel's webhook routes to the server (nothing when it polls)."""

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult:
        """Send queued replies (notifications from the outbox) and say how it went."""


# ---------------------------------------------------------------- lifecycle


class Timings(Protocol):
    """The timings every platform adapter's ``Tuning`` has."""

    backoff_base: float
    backoff_max: float
    max_retries: int
    ready_timeout: float
    drain_timeout: float


class PlatformChannel:
    """What a platform adapter repeats around its translation: a ready flag, a background
    runner (setting up, then polling), and its lane of the webhook inbox.

    Subclasses set ``channel``, ``tuning`` and ``inbox`` and call ``super().__init__()``.
    """

    channel: Channel
    inbox: UpdateInbox

    def __init__(self) -> None:
        self._ready = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._inbox_on = False

    @property
    def timings(self) -> Timings:
        return self.tuning  # type: ignore[attr-defined]

    @property
    def backoff(self) -> Backoff:
        t = self.timings
        return Backoff(t.backoff_base, t.backoff_max, t.max_retries)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self, seconds: float | None = None) -> bool:
        """True once the channel is set up (within ``seconds``, or the tuning's timeout)."""
        try:
            await asyncio.wait_for(self._ready.wait(), seconds or self.timings.ready_timeout)
        except TimeoutError:
            return False
        return True

    def _run_in_background(self, job: Awaitable[None], name: str) -> None:
        self._runner = asyncio.ensure_future(job)
        self._runner.set_name(name)

    async def _stop_runner(self) -> None:
        """Cancel the runner and wait for it (its own errors were logged where they arose)."""
        if self._runner is None:
            return
        self._runner.cancel()
        try:
            await self._runner
        except asyncio.CancelledError:
            pass
        except Exception:
            log.debug("%s runner ended with an error", self.channel.value, exc_info=True)
        self._runner = None

    def _wire(
        self,
        sessions: async_sessionmaker[AsyncSession],
        inbox: UpdateInbox | None,
        secret: bytes,
    ) -> None:
        """What every platform sets up alike: its lane of the webhook inbox (handled by
        ``_handle_stored``), the per-chat locks for receiving and sending, and reachability."""
        self.inbox = inbox or UpdateInbox(sessions, secret=secret)
        self.inbox.route(self.channel.value, self._handle_stored)
        self._receive_locks = ChatLocks()
        self._send_locks = ChatLocks()
        self.reachability = Reachability(sessions, self.channel, secret)

    async def _handle_stored(self, payload: object) -> None:
        """Handle one stored update (the platform's own JSON), on whichever worker claimed it."""
        raise NotImplementedError

    async def _open_inbox(self) -> None:
        self._inbox_on = True
        await self.inbox.start(self.channel.value)

    async def _drain_inbox(self, seconds: float | None) -> None:
        if self._inbox_on and not await self.inbox.drain(self.channel.value, seconds):
            log.warning("%s: updates still waiting in the inbox", self.channel.value)

    async def _close_inbox(self) -> None:
        if self._inbox_on:
            await self.inbox.stop(self.channel.value, self.timings.drain_timeout)
            self._inbox_on = False


# ---------------------------------------------------------------- ordering


class ChatLocks:
    """One lock per chat key, kept only while someone holds or waits for it.

    asyncio locks are fair, so the tasks waiting on a chat's lock get it in the order they
    asked: taking it first thing keeps a chat's updates (or sends) in arrival order.
    """

    def __init__(self) -> None:
        self._locks: WeakValueDictionary[Hashable, asyncio.Lock] = WeakValueDictionary()

    def __call__(self, key: Hashable) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


class TaskSet:
    """Background sends (replies after a webhook answered), kept until done and drained at
    shutdown; a failure is logged, never lost silently."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: sending replies failed (%s)", self.name, type(exc).__name__)

    async def drain(self, seconds: float | None) -> None:
        """Wait until every task has finished; past ``seconds``, cancel the rest and say so."""
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while self.tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                for task in list(self.tasks):
                    task.cancel()
                await asyncio.gather(*self.tasks, return_exceptions=True)
                log.warning("%s: replies still unsent at shutdown were dropped", self.name)
                return
            await asyncio.wait(set(self.tasks), timeout=remaining)


# ---------------------------------------------------------------- retries


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with a cap and a little jitter (so that workers do not retry in
    step): ``base``, ``2 × base``, ``4 × base``... up to ``cap`` seconds, ``retries`` times."""

    base: float = 0.5
    cap: float = 30.0
    retries: int = 4

    def delay(self, failures: int) -> float:
        """How long to wait after the ``failures``-th failure in a row (1, 2, ...)."""
        plain = min(self.cap, self.base * 2 ** max(0, failures - 1))
        return plain * (1 + random.random() / 4)

    def exhausted(self, failures: int) -> bool:
        """Whether to give up after ``failures`` failures in a row."""
        return failures > self.retries

    def after(self, delay: float) -> float:
        """The next wait of a loop that never gives up (setting up, polling): doubled, capped."""
        return min(delay * 2, self.cap)


# ---------------------------------------------------------------- webhook secret


def secret_matches(request: web.Request, header: str, expected: bytes) -> bool:
    """Whether the request carries the webhook secret in ``header`` (constant time); never
    true when no secret is configured."""
    given = request.headers.get(header, "").encode()
    return bool(expected) and hmac.compare_digest(given, expected)


# ---------------------------------------------------------------- reachability


class Reachability:
    """Which chats cannot be written to (blocked the bot, unfollowed, left), in the database
    for every worker; chats appear in log lines as keyed hashes only."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], channel: Channel, secret: bytes
    ) -> None:
        self._sessions = sessions
        self.channel = channel
        self._secret = secret

    def ref(self, chat_id: str) -> str:
        """A chat as it may appear in a log line: a keyed hash, never the id."""
        return keyed_hash(self._secret, self.channel.value, chat_id)[:12]

    async def mark(self, chat_id: str, reason: str) -> None:
        """Record that a send found the chat unreachable (never raises: it is bookkeeping)."""
        log.info("%s chat %s is unreachable: %s", self.channel.value, self.ref(chat_id), reason)
        try:
            async with self._sessions() as session, session.begin():
                await recipients.mark_unreachable(session, self.channel.value, chat_id, reason)
        except Exception as exc:
            log.warning(
                "%s: could not record an unreachable chat (%s)",
                self.channel.value,
                type(exc).__name__,
            )

    async def unreachable(self, chat_id: str) -> bool:
        async with self._sessions() as session:
            return await recipients.is_unreachable(session, self.channel.value, chat_id)


# ---------------------------------------------------------------- numbered menus


@dataclass(frozen=True, slots=True)
class Numbered:
    """A choice with the number that picks it."""

    number: int
    choice: Choice

    @property
    def line(self) -> str:
        """``"3. Label"`` on one line (line breaks in a label are folded)."""
        return f"{self.number}. {' '.join(self.choice.label.split())}"


def numbered_turn(
    replies: Iterable[Reply],
    *,
    listed: Callable[[Reply], bool] = lambda reply: True,
    count_unlisted: bool = True,
) -> list[tuple[Reply, tuple[Numbered, ...]]]:
    """Each reply with its choices numbered, the numbering continuing across the turn.

    ``listed`` says which replies show their choices as a numbered list (the others show them
    as buttons or letters). With ``count_unlisted`` an unlisted reply's choices still take
    numbers, as the dispatcher counts every choice of the turn; without it (the terminal,
    which resolves what is typed itself) only listed choices are numbered.
    """
    out: list[tuple[Reply, tuple[Numbered, ...]]] = []
    offered = 0
    for reply in replies:
        items: tuple[Numbered, ...] = ()
        if listed(reply):
            items = tuple(Numbered(offered + i + 1, c) for i, c in enumerate(reply.choices))
            offered += len(reply.choices)
        elif count_unlisted:
            offered += len(reply.choices)
        out.append((reply, items))
    return out


def menu_text(text: str, items: Sequence[Numbered], *, hint: str = "", title: str = "") -> str:
    """A reply's text with its numbered choices under it (and ``hint`` after them); with no
    text, ``title`` (if any) heads the list."""
    text = text.strip()
    if not items:
        return text
    listing = "\n".join(item.line for item in items)
    if hint:
        listing = f"{listing}\n{hint}"
    if text:
        return f"{text}\n\n{listing}"
    return f"{title}\n{listing}" if title else listing
