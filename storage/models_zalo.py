"""What the Zalo Official Account channel keeps in the database: its tokens, and when each
follower last interacted with the OA.

Kept apart from ``storage.models`` (like ``storage.models_channels``) so that the channel adds
its tables without touching the core schema; they are created by migration 0006. Importing this
module registers the models on ``Base.metadata``.

Tokens live here, not in process memory or ``.env``, because Zalo's refresh token is single-use:
a refresh hands out a new pair and burns the old refresh token, so the pair must be shared by
every process and survive restarts. The columns hold sealed (encrypted and authenticated)
values; see ``bot.channels.zalo_oa.TokenCipher``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.repositories._upsert import insert_ignore


class ZaloToken(Base):
    """The OA's current token pair; the row is locked (FOR UPDATE) while it is refreshed.

    ``access_token`` and ``refresh_token`` are sealed with a key derived from the server secret:
    a database dump alone does not let anyone write as the OA.
    """

    __tablename__ = "zalo_tokens"

    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ZaloInteraction(Base):
    """When a user last interacted with the OA (wrote, tapped a button, followed).

    Zalo only accepts customer-service messages within 7 days of the user's last interaction,
    so notifications outside that window are not even attempted. ``following`` is False after
    an ``unfollow`` event.
    """

    __tablename__ = "zalo_interactions"

    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_interaction_at: Mapped[datetime] = mapped_column()
    following: Mapped[bool] = mapped_column(Boolean, default=True)


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
