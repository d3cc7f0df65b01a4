"""Conversation state rows and the processed-events table."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import ChatRef, ChatState
from storage.models import ChatStateRow, ProcessedEvent, utcnow
from storage.repositories._upsert import insert_ignore


async def claim_event(session: AsyncSession, channel: str, event_id: str) -> bool:
    """Record a delivery; False when it was already processed (a redelivery).

    On PostgreSQL a concurrent transaction inserting the same id waits for this one, then sees
    the conflict: so two workers never both process one delivery.
    """
    return await insert_ignore(session, ProcessedEvent, channel=channel, event_id=event_id[:128])


async def lock_state(session: AsyncSession, chat: ChatRef) -> ChatState:
    """Load the chat's state with its row locked until the transaction ends."""
    await insert_ignore(
        session,
        ChatStateRow,
        channel=chat.channel.value,
        chat_id=chat.chat_id,
        state="{}",
        updated_at=utcnow(),
    )
    row = await session.scalar(
        select(ChatStateRow.state)
        .where(ChatStateRow.channel == chat.channel.value, ChatStateRow.chat_id == chat.chat_id)
        .with_for_update()
    )
    return ChatState.from_json(row)


async def save_state(session: AsyncSession, chat: ChatRef, state: ChatState) -> None:
    await session.execute(
        update(ChatStateRow)
        .where(ChatStateRow.channel == chat.channel.value, ChatStateRow.chat_id == chat.chat_id)
        .values(state=state.to_json(), updated_at=utcnow())
    )
