"""Rate limits shared by every worker: fixed-window counters in the database.

A limiter in one process's memory lets N workers accept N times the rate. Here each hit is one
upsert (``INSERT … ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits``) on
``rate_counters``, keyed by what is limited (a client address, a session, a chat) and the number
of the current window, so every worker counts against the same row. Keys are keyed hashes:
addresses and chat ids never reach the table in clear. Past windows are purged with the other
retention work.

A fixed window admits at most twice the limit across a window boundary; that is the usual
price of one row per key, and it still bounds the rate.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert

from bot.domain.privacy import keyed_hash
from storage.models import RateCounter
from storage.repositories._core import core_connection
from storage.repositories._upsert import dialect_insert

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SharedRateLimiter:
    """At most ``limit`` hits per key in each window of ``window_seconds``, across workers."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        secret: bytes,
        name: str,
        limit: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._secret = secret
        self.name = name
        self.limit = limit
        self.window = window_seconds
        self._clock = clock

    def _key(self, key: str) -> str:
        return _counter_key(self._secret, self.name, key)

    async def hit(self, key: str) -> float:
        """Count one hit; 0 if it is within the limit, else the seconds until the window ends."""
        async with self._sessions() as session, session.begin():
            return await self.hit_in(session, key)

    async def hit_in(self, session: AsyncSession, key: str) -> float:
        """``hit`` inside the caller's transaction (one transaction for several limits)."""
        now = self._clock()
        slot = int(now // self.window)
        ends = (slot + 1) * self.window
        hits = await _increment(
            session,
            self._key(key),
            slot,
            datetime.fromtimestamp(ends, UTC) + timedelta(seconds=self.window),
        )
        if hits <= self.limit:
            return 0.0
        return max(ends - now, 0.001)


@lru_cache(maxsize=8192)
def _counter_key(secret: bytes, name: str, key: str) -> str:
    """A counter's row key (remembered: a session or an address hits its limits with every
    message, and each key is an HMAC)."""
    return f"{name}:{keyed_hash(secret, 'rate', name, key)[:48]}"


async def _increment(session: AsyncSession, key: str, slot: int, expires_at: datetime) -> int:
    conn = await core_connection(session)
    result = await conn.execute(
        _increment_stmt(conn.dialect.name), {"key": key, "slot": slot, "expires_at": expires_at}
    )
    return int(result.scalar_one())


@cache
def _increment_stmt(dialect: str) -> Insert:
    """The counter's upsert, built once per dialect (Core, bound parameters): two run for every
    web message, and building one cost more Python than running it (docs/cost.md)."""
    stmt = dialect_insert(dialect, RateCounter).values(
        key=bindparam("key"), slot=bindparam("slot"), hits=1, expires_at=bindparam("expires_at")
    )
    return stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[RateCounter.key, RateCounter.slot],
        set_={"hits": RateCounter.hits + 1},
    ).returning(RateCounter.hits)


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``: comma-separated addresses or networks ("127.0.0.1, 10.0.0.0/8")."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def client_address(peer: str | None, forwarded_for: str, trusted: Sequence[Network]) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the first
    address of ``X-Forwarded-For``, read from the right, that is not a trusted proxy.

    Only trusted proxies are believed: anyone can send an ``X-Forwarded-For`` header, so from an
    untrusted peer it is ignored (otherwise a client would pick a new address per request).
    """
    address = peer or ""
    if not trusted or not _is_trusted(address, trusted):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _is_trusted(hop, trusted):
            return hop
        address = hop
    return address


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class SharedSendLimits:
    """A platform's send limits (overall, and per chat) held across every worker.

    Each send first takes its place in the shared windows: when a window is full the sender
    waits for the next. If the database cannot be reached the send goes ahead under the
    process's own limiter alone (a database outage must not stop replies).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        secret: bytes,
        name: str,
        overall_per_second: float,
        per_chat_per_second: float,
        per_chat_burst: int,
    ) -> None:
        self.overall = SharedRateLimiter(
            sessions,
            secret=secret,
            name=f"{name}-all",
            limit=max(1, int(overall_per_second)),
            window_seconds=1.0,
        )
        burst = max(1, per_chat_burst)
        self.per_chat = SharedRateLimiter(
            sessions,
            secret=secret,
            name=f"{name}-chat",
            limit=burst,
            window_seconds=burst / per_chat_per_second,
        )

    async def acquire(self, chat: str | None, *, message: bool) -> None:
        if message and chat is not None:
            await _wait_for(self.per_chat, chat)
        await _wait_for(self.overall, "all")


async def wait_for(limiter: SharedRateLimiter, key: str = "all") -> None:
    """Wait until ``key`` has room in ``limiter``'s window (no wait if the database fails)."""
    await _wait_for(limiter, key)


async def _wait_for(limiter: SharedRateLimiter, key: str) -> None:
    import asyncio
    import logging

    while True:
        try:
            wait = await limiter.hit(key)
        except Exception as exc:
            logging.getLogger(__name__).warning(
                "shared send limit unavailable (%s); using this process's limit",
                type(exc).__name__,
            )
            return
        if wait <= 0:
            return
        await asyncio.sleep(wait)
