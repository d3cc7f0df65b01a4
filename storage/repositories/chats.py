"""Conversation state rows and the processed-events table."""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert, Update

from bot.messages import ChatRef, ChatState
from storage.models import ChatStateRow, ProcessedEvent, utcnow
from storage.repositories._core import core_connection
from storage.repositories._upsert import dialect_insert, insert_ignore


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
    conn = await core_connection(session)
    row = (
        await conn.execute(
            _lock_stmt(conn.dialect.name),
            {
                "channel": chat.channel.value,
                "chat_id": row_id,
                "user_hash": user_hash,
                "updated_at": utcnow(),
            },
        )
    ).scalar_one()
    return ChatState.from_json(row)


@cache
def _lock_stmt(dialect: str) -> Insert:
    """Built once per dialect (Core, bound parameters): building an upsert per message cost
    more Python than running it (docs/cost.md).

    One statement: insert the row if it is new, else "update" it to itself, which on
    PostgreSQL locks it until the transaction ends (as FOR UPDATE would) and returns the
    latest committed state; on SQLite the transaction already holds the write lock.
    """
    stmt = dialect_insert(dialect, ChatStateRow).values(
        channel=bindparam("channel"),
        chat_id=bindparam("chat_id"),
        user_hash=bindparam("user_hash"),
        state="{}",
        updated_at=bindparam("updated_at"),
    )
    return stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[ChatStateRow.channel, ChatStateRow.chat_id],
        set_={"state": ChatStateRow.state},
    ).returning(ChatStateRow.state)


async def save_state(
    session: AsyncSession, chat: ChatRef, state: ChatState, *, key: str | None = None
) -> None:
    conn = await core_connection(session)
    await conn.execute(
        _SAVE_STATE,
        {
            "channel_": chat.channel.value,
            "chat_id_": key or chat.chat_id,
            "state": state.to_json(),
            "updated_at": utcnow(),
        },
    )


_SAVE_STATE: Update = (
    update(ChatStateRow)
    .where(
        ChatStateRow.channel == bindparam("channel_"),
        ChatStateRow.chat_id == bindparam("chat_id_"),
    )
    .values(state=bindparam("state"), updated_at=bindparam("updated_at"))
)
