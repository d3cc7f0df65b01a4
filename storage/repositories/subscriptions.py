"""Citizens' subscriptions to a dossier's status changes."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Subscription, utcnow
from storage.repositories._upsert import insert_ignore


async def subscribe(
    session: AsyncSession, *, dossier_id: int, channel: str, chat_id: str, user_hash: str
) -> None:
    """Subscribe (again) a chat to a dossier."""
    inserted = await insert_ignore(
        session,
        Subscription,
        dossier_id=dossier_id,
        channel=channel,
        chat_id=chat_id,
        user_hash=user_hash,
        created_at=utcnow(),
        active=True,
    )
    if not inserted:
        await session.execute(
            update(Subscription)
            .where(
                Subscription.dossier_id == dossier_id,
                Subscription.channel == channel,
                Subscription.chat_id == chat_id,
            )
            .values(active=True, user_hash=user_hash)
        )


async def unsubscribe_all(session: AsyncSession, *, channel: str, chat_id: str) -> int:
    """Stop every notification to a chat; returns how many subscriptions were active."""
    result = await session.execute(
        update(Subscription)
        .where(
            Subscription.channel == channel,
            Subscription.chat_id == chat_id,
            Subscription.active.is_(True),
        )
        .values(active=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def unsubscribe(
    session: AsyncSession, *, dossier_id: int, channel: str, chat_id: str
) -> bool:
    result = await session.execute(
        update(Subscription)
        .where(
            Subscription.dossier_id == dossier_id,
            Subscription.channel == channel,
            Subscription.chat_id == chat_id,
            Subscription.active.is_(True),
        )
        .values(active=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def active_for(session: AsyncSession, dossier_id: int) -> list[Subscription]:
    return list(
        await session.scalars(
            select(Subscription).where(
                Subscription.dossier_id == dossier_id, Subscription.active.is_(True)
            )
        )
    )


async def is_subscribed(
    session: AsyncSession, *, dossier_id: int, channel: str, chat_id: str
) -> bool:
    return (
        await session.scalar(
            select(Subscription.id).where(
                Subscription.dossier_id == dossier_id,
                Subscription.channel == channel,
                Subscription.chat_id == chat_id,
                Subscription.active.is_(True),
            )
        )
    ) is not None
