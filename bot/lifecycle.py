"""Lifecycle events and reachability, applied by the dispatcher in the update's transaction.

A chat becomes unreachable when its user blocks the bot, removes it from a group or
unfollows the OA: notifications stop (``bot.delivery`` skips it) and, on an unfollow, the
user's subscriptions are cancelled, since Zalo no longer lets the OA write to them. Any
message, a follow or an unblock makes the chat reachable again; the mark is written only when
it changes (a conditional update that touches no row for a chat that was never marked).

Adapters only say what happened (``Incoming.kind``); the rules are here. A send that fails
because the chat is unreachable is noted by the adapter that found out
(``bot.channels.base.Reachability``), outside any update.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Channel, EventKind, Incoming, Reply
from storage.repositories import recipients, subscriptions

log = logging.getLogger(__name__)

# Chats on these channels can block the bot or unfollow; the web chat and the terminal cannot.
CAN_BECOME_UNREACHABLE = frozenset({Channel.TELEGRAM, Channel.ZALO_OA, Channel.ZALO_BOT})

REASONS = {
    EventKind.UNFOLLOW: "unfollowed the OA",
    EventKind.BLOCKED: "blocked by the user",
}
REMOVED_FROM_GROUP = "removed from the group"
# Complete once recorded: no handler runs and nothing is answered (a follow is greeted).
NO_HANDLER = frozenset({EventKind.UNFOLLOW, EventKind.BLOCKED, EventKind.REACHABLE})


async def apply(session: AsyncSession, incoming: Incoming) -> list[Reply] | None:
    """Record what the event changes about the chat's reachability. The replies when the
    event is complete with that (no handler runs): none for a lifecycle event, the adapter's
    refusal for content it refused; None when a handler is to run."""
    done = [Reply(incoming.refusal)] if incoming.refusal else None
    if incoming.kind in NO_HANDLER:
        done = []
    chat = incoming.chat
    if chat.channel not in CAN_BECOME_UNREACHABLE:
        return done
    channel = chat.channel.value
    if incoming.kind in (EventKind.UNFOLLOW, EventKind.BLOCKED):
        reason = REASONS[incoming.kind]
        if incoming.kind is EventKind.BLOCKED and chat.is_group:
            reason = REMOVED_FROM_GROUP
        await recipients.mark_unreachable(session, channel, chat.chat_id, reason)
        if incoming.kind is EventKind.UNFOLLOW:
            stopped = await subscriptions.unsubscribe_all(
                session, channel=channel, chat_id=chat.chat_id
            )
            log.info("%s: a user unfollowed; %d subscription(s) stopped", channel, stopped)
        return done
    if await recipients.clear_unreachable(session, channel, chat.chat_id):
        log.info("%s: a chat is reachable again", channel)
    return done
