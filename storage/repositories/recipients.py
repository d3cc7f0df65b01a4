"""Whether a channel can reach a chat: marks set when sends fail for good, lifted on return."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import utcnow
from storage.models.channels import MAX_REASON_CHARS, ChannelRecipient
from storage.repositories._upsert import insert_ignore


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
