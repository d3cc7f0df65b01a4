"""Conversation state rows and the processed-events table."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
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


async def lock_state(
    session: AsyncSession, chat: ChatRef, *, key: str | None = None, user_hash: str = ""
) -> ChatState:
    """Load the conversation's state with its row locked until the transaction ends.

    ``key`` is the row's id: the dispatcher passes a keyed hash of the person in the chat
    (never the platform's ids), so that in a group every member has a state of their own.
    ``user_hash`` lets ``users forget`` find the person's rows.
    """
    row_id = key or chat.chat_id
    # One statement: insert the row if it is new, else "update" it to itself, which on
    # PostgreSQL locks it until the transaction ends (as FOR UPDATE would) and returns the
    # latest committed state; on SQLite the transaction already holds the write lock.
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        ins(ChatStateRow)
        .values(
            channel=chat.channel.value,
            chat_id=row_id,
            user_hash=user_hash,
            state="{}",
            updated_at=utcnow(),
        )
        .on_conflict_do_update(
            index_elements=[ChatStateRow.channel, ChatStateRow.chat_id],
            set_={"state": ChatStateRow.state},
        )
        .returning(ChatStateRow.state)
    )
    row = (await session.execute(stmt)).scalar_one()
    return ChatState.from_json(row)


async def save_state(
    session: AsyncSession, chat: ChatRef, state: ChatState, *, key: str | None = None
) -> None:
    row_id = key or chat.chat_id
    await session.execute(
        update(ChatStateRow)
        .where(ChatStateRow.channel == chat.channel.value, ChatStateRow.chat_id == row_id)
        .values(state=state.to_json(), updated_at=utcnow())
    )
