"""The Zalo OA channel's rows: its sealed token pair, and each follower's last interaction.

``ZaloToken`` and ``ZaloInteraction`` are re-exported for the channel, which reads their fields.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import utcnow
from storage.models.zalo import ZaloInteraction, ZaloToken
from storage.repositories._upsert import insert_ignore

__all__ = [
    "ZaloInteraction",
    "ZaloToken",
    "aware",
    "insert_tokens",
    "interaction_of",
    "load_tokens",
    "record_interaction",
    "set_following",
]


def aware(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive ones back)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def load_tokens(session: AsyncSession, oa_id: str, *, lock: bool = False) -> ZaloToken | None:
    """The OA's row; ``lock`` holds it (FOR UPDATE) until the transaction ends, so that only
    one process refreshes at a time (SQLite serialises writers with BEGIN IMMEDIATE anyway)."""
    query = select(ZaloToken).where(ZaloToken.oa_id == oa_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def insert_tokens(
    session: AsyncSession, oa_id: str, access_token: str, refresh_token: str, expires_at: datetime
) -> bool:
    """Store a first pair unless the OA has one already; True when this call stored it."""
    return await insert_ignore(
        session,
        ZaloToken,
        oa_id=oa_id,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=expires_at,
        updated_at=utcnow(),
    )


async def record_interaction(
    session: AsyncSession, oa_id: str, user_id: str, at: datetime, *, following: bool = True
) -> None:
    """Note an interaction (never moving the time backwards) and whether the user follows."""
    inserted = await insert_ignore(
        session,
        ZaloInteraction,
        oa_id=oa_id,
        user_id=user_id,
        last_interaction_at=at,
        following=following,
    )
    if inserted:
        return
    row = await session.scalar(
        select(ZaloInteraction)
        .where(ZaloInteraction.oa_id == oa_id, ZaloInteraction.user_id == user_id)
        .with_for_update()
    )
    if row is None:  # pragma: no cover (deleted in between)
        return
    row.following = following
    if aware(row.last_interaction_at) < at:
        row.last_interaction_at = at


async def set_following(session: AsyncSession, oa_id: str, user_id: str, following: bool) -> None:
    """Record a follow or unfollow without counting it as an interaction time change."""
    await session.execute(
        update(ZaloInteraction)
        .where(ZaloInteraction.oa_id == oa_id, ZaloInteraction.user_id == user_id)
        .values(following=following)
    )


async def interaction_of(session: AsyncSession, oa_id: str, user_id: str) -> ZaloInteraction | None:
    """The user's last interaction, or None when the OA never heard from them."""
    return await session.scalar(
        select(ZaloInteraction).where(
            ZaloInteraction.oa_id == oa_id, ZaloInteraction.user_id == user_id
        )
    )
