"""The six steps of one update: dedupe, lock and load state, role, route, handle, save and commit.

Replies are returned only after the transaction commits, so a crash never shows a citizen
something the database does not hold; any handler failure rolls everything back and the
citizen gets a short apology.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import lru_cache
from weakref import WeakValueDictionary

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import lifecycle
from bot.domain.dossiers.workdays import load_calendar
from bot.domain.privacy import keyed_hash
from bot.kb_service import KnowledgeService
from bot.messages import Channel, ChatRef, ChatState, Incoming, Outcome, Reply
from bot.metrics import Metrics
from bot.prefetch import prefetched
from bot.reflections import delivery as reflection_delivery
from handlers import ROUTES, Route, admin, texts
from handlers import handle as route
from handlers.context import Context, Services, vietnam_today
from knowledge.search import Index
from storage.group_commit import GroupCommit
from storage.repositories import chats, roles

log = logging.getLogger(__name__)
_SURROGATE = re.compile("[\ud800-\udfff]")

AfterHandling = Callable[[AsyncSession, list[Reply]], Awaitable[None]]
BeforeHandling = Callable[[AsyncSession], Awaitable[bool]]

# Channels whose updates are group-committed on SQLite (storage/group_commit.py): the web chat,
# whose client waits for the answer anyway. Webhook updates keep a transaction each: their
# handling is stopped (cancelled) at shutdown, and a stop between a batch's commit and the
# reply's sending would leave a stored update unanswered.
GROUP_COMMITTED = frozenset({Channel.WEB})


@lru_cache(maxsize=8192)
def _keyed_hash(secret: bytes, *parts: str) -> str:
    """``keyed_hash``, remembered for the chats in hand: every update of a chat needs its
    user's and its state row's hashes (two HMACs), and a chat sends many updates."""
    return keyed_hash(secret, *parts)


def _numbered_choice(incoming: Incoming, state: ChatState) -> Incoming:
    """Map a reply "1", "2"... to the choice offered last (channels without buttons)."""
    text = incoming.text.strip().rstrip(".)")
    if incoming.choice is None and state.offered and text.isdigit():
        n = int(text)
        if 1 <= n <= len(state.offered):
            return Incoming(
                chat=incoming.chat,
                event_id=incoming.event_id,
                choice=state.offered[n - 1],
                display_name=incoming.display_name,
            )
    return incoming


class Dispatcher:
    """Turns one ``Incoming`` into the replies to send, with all state kept in the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        knowledge: KnowledgeService,
        *,
        secret: bytes,
        hotline: str,
        max_message_chars: int,
        metrics: Metrics | None = None,
        routes: tuple[Route, ...] = ROUTES,
        clock: Callable[[], float] = time.perf_counter,
        services: Services | None = None,
        group_commit: GroupCommit | None = None,
    ) -> None:
        self._sessions = sessions
        self.group_commit = group_commit
        self._in_hand = 0  # updates inside ``handle`` now (group commit only when > 1)
        self._knowledge = knowledge
        self._secret = secret
        self._hotline = hotline
        self._max_chars = max_message_chars
        self._routes = routes
        self._clock = clock
        self.metrics = metrics or Metrics()
        self.services = services or Services(secret, load_calendar(), vietnam_today)
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    def user_hash(self, incoming: Incoming) -> str:
        return self.user_hash_of(incoming.chat.channel, incoming.chat.user_id)

    def user_hash_of(self, channel: Channel, user_id: str) -> str:
        """The stored identity of a user: a keyed hash, never the platform's id."""
        return _keyed_hash(self._secret, channel.value, user_id)[:40]

    def state_key(self, chat: ChatRef) -> str:
        """The id of a person's state row in a chat: a keyed hash, never the platform's ids.

        State belongs to the person, not the chat: in a group each member's verification and
        flows are their own.
        """
        return _keyed_hash(
            self._secret, "chat-state", chat.channel.value, chat.chat_id, chat.user_id
        )

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def handle(
        self,
        incoming: Incoming,
        *,
        before: BeforeHandling | None = None,
        after: AfterHandling | None = None,
    ) -> list[Reply]:
        """Process one update; returns the replies to send (none for a redelivery).

        ``before`` runs first in the update's transaction (the web chat's rate limits and
        session touch); when it returns False the update stops there, unclaimed, and what
        ``before`` wrote (the counted hit) is committed.

        ``after`` runs in the same transaction once the state is saved, with the replies: a
        channel's own bookkeeping (the web chat's history) costs no transaction of its own, and
        is rolled back with everything else if anything fails.
        """
        if _SURROGATE.search(incoming.text):
            # A lone UTF-16 surrogate (from JSON "\ud800") can be neither stored nor logged.
            incoming = replace(incoming, text=_SURROGATE.sub("\ufffd", incoming.text))
        started = self._clock()
        channel = incoming.chat.channel.value
        lock = self._lock(incoming.chat.key)
        self._in_hand += 1
        try:
            prepared = await self._prepare(incoming)
            # Retrieval needs no lock: run before the transaction (bot/prefetch.py).
            index = prefetched(self._knowledge.index, incoming, self._max_chars)

            async def body(session: AsyncSession) -> tuple[list[Reply], Outcome | None]:
                return await self._in_transaction(
                    session, incoming, index, prepared, before=before, after=after
                )

            async with lock:
                group = self.group_commit
                if (
                    group is not None
                    and incoming.chat.channel in GROUP_COMMITTED
                    and (self._in_hand > 1 or not group.idle)
                ):
                    done, outcome = await group.run(body)  # storage/group_commit.py
                else:  # alone: a batch of one would only add the writer's hand-offs
                    async with self._sessions() as session, session.begin():
                        done, outcome = await body(session)
        except Exception:
            self.metrics.errors.labels(channel).inc()
            log.exception("handler failed on %s event %s", channel, incoming.event_id)
            return [Reply(texts.APOLOGY)]
        finally:
            self._in_hand -= 1
        if outcome is None:
            return done
        self.metrics.messages.labels(channel, outcome.decision or "other").inc()
        self.metrics.latency.labels(channel).observe(self._clock() - started)
        return done

    async def _in_transaction(
        self,
        session: AsyncSession,
        incoming: Incoming,
        index: Index,
        prepared: object | None,
        *,
        before: BeforeHandling | None,
        after: AfterHandling | None,
    ) -> tuple[list[Reply], Outcome | None]:
        """The update's work in its transaction: the replies, and the outcome when a handler
        ran (None: refused, a redelivery, or a lifecycle event)."""
        channel = incoming.chat.channel.value
        if before is not None and not await before(session):
            return [], None  # refused by the channel: what ``before`` wrote is committed
        if not await chats.claim_event(session, channel, incoming.event_id):
            self.metrics.duplicates.labels(channel).inc()
            return [], None
        done = await lifecycle.apply(session, incoming)
        if done is not None:
            return done, None  # a lifecycle event, or content the adapter refused
        user_hash = self.user_hash(incoming)
        state_key = self.state_key(incoming.chat)
        state = await chats.lock_state(session, incoming.chat, key=state_key, user_hash=user_hash)
        incoming = _numbered_choice(incoming, state)
        ctx = Context(
            session=session,
            incoming=incoming,
            state=state,
            index=index,
            user_hash=user_hash,
            hotline=self._hotline,
            max_message_chars=self._max_chars,
            services=self.services,
            actor=await roles.actor_of(session, user_hash),
            prepared=prepared,
        )
        outcome = await self._run(ctx)
        if incoming.chat.channel is Channel.ZALO_OA:
            # The citizen wrote, so Zalo's window is open again: queue held replies.
            await reflection_delivery.release_held(session, incoming.chat)
        offered = tuple(c.value for r in outcome.replies for c in r.choices)
        await chats.save_state(
            session,
            incoming.chat,
            outcome.next_state.evolve(offered=offered),
            key=state_key,
        )
        replies = list(outcome.replies)
        if after is not None:
            await after(session, replies)
        return replies, outcome

    async def _prepare(self, incoming: Incoming) -> object | None:
        """CPU-heavy work done before the update's transaction: an admin's knowledge file is
        read and validated here, so that a large workbook never holds the write lock (on
        SQLite, every other chat) while it is parsed. Nothing is written."""
        if incoming.file is None:
            return None
        async with self._sessions() as session:
            actor = await roles.actor_of(session, self.user_hash(incoming))
        if actor.role != "admin":
            return None
        return await admin.parse_upload(incoming.file)

    async def _run(self, ctx: Context) -> Outcome:
        incoming = ctx.incoming
        if incoming.choice is None and incoming.file is None and not incoming.unsupported:
            text = incoming.text.strip()
            if not text:
                return Outcome((Reply(texts.EMPTY_TEXT),), ctx.state)
            if len(text) > self._max_chars:
                reply = texts.TOO_LONG.format(length=len(text), limit=self._max_chars)
                return Outcome((Reply(reply),), ctx.state)
        return await route(ctx, self._routes)
