"""Per-recipient facts that channel adapters need, such as "this user blocked the bot".

Kept apart from ``storage.models`` so that a channel can add them without touching the core
schema; the table is created by migration 0002. Importing this module registers the model on
``Base.metadata``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.repositories._upsert import insert_ignore

MAX_REASON_CHARS = 200


class ChannelRecipient(Base):
    """One chat a channel sends to; ``unreachable_at`` is set while messages cannot arrive.

    A Telegram user who blocked the bot makes every send fail with 403: the chat is marked here
    so that nothing retries or queues messages for it, and the mark is cleared as soon as the
    user writes again (or unblocks the bot).
    """

    __tablename__ = "channel_recipients"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    unreachable_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(String(MAX_REASON_CHARS), default="")


async def mark_unreachable(session: AsyncSession, channel: str, chat_id: str, reason: str) -> None:
    """Record that sends to this chat fail for good (until the user comes back)."""
    reason = reason[:MAX_REASON_CHARS]
    now = utcnow()
    inserted = await insert_ignore(
        session,
        ChannelRecipient,
        channel=channel,
        chat_id=chat_id,
        unreachable_at=now,
        reason=reason,
    )
    if not inserted:
        await session.execute(
            update(ChannelRecipient)
            .where(ChannelRecipient.channel == channel, ChannelRecipient.chat_id == chat_id)
            .values(unreachable_at=now, reason=reason)
        )


async def clear_unreachable(session: AsyncSession, channel: str, chat_id: str) -> bool:
    """Lift the mark (the user wrote or unblocked the bot); True when there was one."""
    result = await session.execute(
        update(ChannelRecipient)
        .where(
            ChannelRecipient.channel == channel,
            ChannelRecipient.chat_id == chat_id,
            ChannelRecipient.unreachable_at.is_not(None),
        )
        .values(unreachable_at=None, reason="")
    )
    return bool(getattr(result, "rowcount", 0))


async def is_unreachable(session: AsyncSession, channel: str, chat_id: str) -> bool:
    """True when sends to this chat are known to fail (check before proactive messages)."""
    marked = await session.scalar(
        select(ChannelRecipient.unreachable_at).where(
            ChannelRecipient.channel == channel, ChannelRecipient.chat_id == chat_id
        )
    )
    return marked is not None
