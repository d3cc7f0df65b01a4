"""Getting an agency's reply to the citizen, on the channel the reflection came from.

Replies go through the outbox (sent after the staff member's transaction commits, retried, and
on the web chat collected by the page's polling). Zalo's Official Account accepts messages only
within 7 days of the citizen's last interaction: outside that window the reply is not queued
but held (``reply_held``), the staff member is told, and the reply is queued as soon as the
citizen writes again (``release_held``, called by the dispatcher for every Zalo OA message).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.outbox_payload import replies_to_payload
from bot.domain.reflections.rules import reference
from bot.messages import Channel, ChatRef, Choice, Reply
from handlers import texts_reflections as t
from storage.models import Agency, utcnow
from storage.models.reflections import ANSWERED, Reflection
from storage.models.zalo import ZaloInteraction
from storage.repositories import outbox
from storage.repositories import reflections as repo

ZALO_WINDOW = timedelta(days=7)


def verdict_choices(reflection_id: int) -> tuple[Choice, ...]:
    return (
        Choice(t.VERDICT_YES, f"pv:{reflection_id}:1"),
        Choice(t.VERDICT_NO, f"pv:{reflection_id}:0"),
    )


def closing_replies(reflection: Reflection, agency: Agency) -> list[Reply]:
    """What the citizen receives when the reflection is answered or closed."""
    ref = reference(reflection.id)
    if reflection.status == ANSWERED:
        return [
            Reply(t.ANSWER.format(ref=ref, agency=agency.name, answer=reflection.answer)),
            Reply(t.ASK_VERDICT, verdict_choices(reflection.id)),
        ]
    return [Reply(t.NOT_IN_SCOPE.format(ref=ref, agency=agency.name, reason=reflection.answer))]


async def window_open(
    session: AsyncSession, channel: str, chat_id: str, now: datetime | None = None
) -> bool:
    """Whether the channel may message this chat now (only Zalo OA has a window)."""
    if channel != Channel.ZALO_OA.value:
        return True
    last = await session.scalar(
        select(func.max(ZaloInteraction.last_interaction_at)).where(
            ZaloInteraction.user_id == chat_id, ZaloInteraction.following.is_(True)
        )
    )
    if last is None:
        return False
    last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)
    return (now or utcnow()) - last <= ZALO_WINDOW


async def send_or_hold(
    session: AsyncSession, reflection: Reflection, replies: list[Reply], key: str
) -> bool:
    """Queue the replies for the citizen; False (and the reflection marked held) when the
    channel's window is closed. A forgotten citizen (no chat left) gets nothing."""
    if not reflection.chat_id:
        return True
    if not await window_open(session, reflection.channel, reflection.chat_id):
        reflection.reply_held = True
        await session.flush()
        return False
    await outbox.enqueue(
        session,
        dedupe_key=f"pakn:{reflection.id}:{key}",
        channel=reflection.channel,
        chat_id=reflection.chat_id,
        payload=replies_to_payload(replies),
    )
    return True


async def notify_if_open(
    session: AsyncSession, reflection: Reflection, replies: list[Reply], key: str
) -> None:
    """Queue an informative message (a forward) if it can arrive now; never held."""
    if reflection.chat_id and await window_open(session, reflection.channel, reflection.chat_id):
        await outbox.enqueue(
            session,
            dedupe_key=f"pakn:{reflection.id}:{key}",
            channel=reflection.channel,
            chat_id=reflection.chat_id,
            payload=replies_to_payload(replies),
        )


async def release_held(session: AsyncSession, chat: ChatRef) -> int:
    """The citizen wrote: queue every reply held for this chat. Returns how many."""
    released = 0
    for reflection in await repo.held_for_chat(session, chat.channel.value, chat.chat_id):
        agency = await session.get(Agency, reflection.agency_id)
        if agency is None:  # pragma: no cover (a foreign key)
            continue
        await outbox.enqueue(
            session,
            dedupe_key=f"pakn:{reflection.id}:closing",
            channel=reflection.channel,
            chat_id=reflection.chat_id,
            payload=replies_to_payload(closing_replies(reflection, agency)),
        )
        reflection.reply_held = False
        await repo.add_event(session, reflection.id, "released", "system")
        released += 1
    return released
