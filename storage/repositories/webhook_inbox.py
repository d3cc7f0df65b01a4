"""Queries of the webhook inbox (``storage.models.inbox``): store, claim, finish, count.

Claiming hands out only the *head* of each chat, the oldest pending update of that chat, and
only when nobody holds a live lease on it. The next update of a chat therefore becomes
claimable only once the one before it is done, so no two updates of a chat are ever handled
at the same time, nor a later one before an earlier one, whichever worker claims them. A lease
that expired (its worker died, or was stopped mid-handling) makes the head claimable again.

On PostgreSQL the claim locks the rows it takes with ``FOR UPDATE SKIP LOCKED``: workers
claiming at the same moment skip each other's rows instead of waiting, and the lease and state
conditions are re-checked on the locked row, so a row leased by a transaction that committed
in between is not taken twice. SQLite has one writer at a time and ignores the clause.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import utcnow
from storage.models.inbox import DONE, FAILED, PENDING, InboundUpdate
from storage.repositories._upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class Stored:
    """One update to store: its channel, the platform's id for it, its chat's key, the JSON."""

    channel: str
    event_id: str
    chat_key: str
    payload: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """An update handed to a worker: ``attempts`` counts this one."""

    id: int
    channel: str
    event_id: str
    payload: str
    attempts: int


async def store(session: AsyncSession, items: Sequence[Stored]) -> int:
    """Insert the updates in order; an update already stored (a redelivery) is ignored.
    Returns how many were new."""
    return sum(await store_each(session, items))


async def store_each(session: AsyncSession, items: Sequence[Stored]) -> list[bool]:
    """``store``, saying for each update whether it was new (one statement each, in order:
    the ids, and so the order of a chat's updates, follow the order given)."""
    now = utcnow()
    return [
        await insert_ignore(
            session,
            InboundUpdate,
            channel=item.channel,
            event_id=item.event_id[:160],
            chat_key=item.chat_key,
            payload=item.payload,
            received_at=now,
            state=PENDING,
            attempts=0,
        )
        for item in items
    ]


async def claim(
    session: AsyncSession,
    *,
    channels: Collection[str],
    owner: str,
    lease: timedelta,
    limit: int,
    exclude: Collection[int] = (),
    now: datetime | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` chat heads to ``owner``, oldest first (see the module's doc).

    ``exclude``: rows the caller is still handling (a lease it outlived must not hand the same
    row to it twice). The caller commits to publish the lease.
    """
    if limit <= 0 or not channels:
        return []
    now = now or utcnow()
    heads = (
        select(func.min(InboundUpdate.id))
        .where(InboundUpdate.state == PENDING, InboundUpdate.channel.in_(tuple(channels)))
        .group_by(InboundUpdate.channel, InboundUpdate.chat_key)
    )
    query = (
        select(InboundUpdate)
        .where(
            InboundUpdate.id.in_(heads),
            InboundUpdate.state == PENDING,
            or_(InboundUpdate.lease_until.is_(None), InboundUpdate.lease_until < now),
        )
        .order_by(InboundUpdate.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if exclude:
        query = query.where(InboundUpdate.id.not_in(tuple(exclude)))
    rows = list(await session.scalars(query))
    if not rows:
        return []
    await session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id.in_([r.id for r in rows]))
        .values(
            lease_owner=owner,
            lease_until=now + lease,
            attempts=InboundUpdate.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return [Claimed(r.id, r.channel, r.event_id, r.payload, r.attempts + 1) for r in rows]


async def finish(session: AsyncSession, row_id: int, *, failed: bool = False) -> None:
    """Mark an update handled (or given up): the payload, which may hold what a citizen
    wrote, is erased; the row stays until the purge so that a redelivery is still ignored."""
    await session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id == row_id)
        .values(
            state=FAILED if failed else DONE,
            payload="",
            lease_owner=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )


async def retry_at(session: AsyncSession, row_id: int, owner: str, when: datetime) -> None:
    """Keep an update pending and claimable again from ``when`` (a failed or interrupted
    attempt); only while ``owner`` still holds it."""
    await session.execute(
        update(InboundUpdate)
        .where(
            InboundUpdate.id == row_id,
            InboundUpdate.state == PENDING,
            InboundUpdate.lease_owner == owner,
        )
        .values(lease_until=when)
        .execution_options(synchronize_session=False)
    )


async def renew(
    session: AsyncSession, row_ids: Collection[int], owner: str, until: datetime
) -> None:
    """Extend ``owner``'s leases on rows it is still handling."""
    await session.execute(
        update(InboundUpdate)
        .where(
            InboundUpdate.id.in_(tuple(row_ids)),
            InboundUpdate.state == PENDING,
            InboundUpdate.lease_owner == owner,
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )


async def pending(session: AsyncSession, channels: Collection[str] | None = None) -> int:
    """How many updates wait to be handled (all channels, or those given)."""
    query = select(func.count()).select_from(InboundUpdate).where(InboundUpdate.state == PENDING)
    if channels is not None:
        query = query.where(InboundUpdate.channel.in_(tuple(channels)))
    return int(await session.scalar(query) or 0)
