"""Retention (old logs purged) and the right to be forgotten (one citizen's data removed).

Forgetting keeps anonymous statistics: a rating stays as a rating of an agency and procedure,
a question's decision stays counted, but nothing links them to the person any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AnswerFeedback,
    ChatStateRow,
    FeedbackInvitation,
    FeedbackResponse,
    LookupAudit,
    MessageLog,
    OutboxMessage,
    ProcessedEvent,
    RateCounter,
    RoleGrant,
    Subscription,
    WebSession,
    utcnow,
)
from storage.models.admin import AuditLog, AuditPurge
from storage.models.channels import ChannelRecipient
from storage.models.inbox import DONE, FAILED, InboundUpdate
from storage.models.zalo import ZaloInteraction
from storage.repositories import reflections as reflection_repo

FORGOTTEN = "forgotten"
ERASED_TEXT = "[đã xóa theo yêu cầu]"


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of record is kept, in days."""

    message_log: int = 365
    audit: int = 1825
    lookup_audit: int = 365
    processed_events: int = 30
    outbox: int = 90
    web_sessions: int = 30
    inbox: int = 7
    """Handled webhook updates (payload already erased): kept to recognise redeliveries."""


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def purge(
    session: AsyncSession, keep: Retention, now: datetime | None = None
) -> dict[str, int]:
    """Delete what is older than its retention; returns rows deleted per table."""
    now = now or utcnow()

    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    out = {
        "message_log": _count(
            await session.execute(
                delete(MessageLog).where(MessageLog.created_at < before(keep.message_log))
            )
        ),
        "lookup_audit": _count(
            await session.execute(
                delete(LookupAudit).where(LookupAudit.at < before(keep.lookup_audit))
            )
        ),
        "processed_events": _count(
            await session.execute(
                delete(ProcessedEvent).where(
                    ProcessedEvent.processed_at < before(keep.processed_events)
                )
            )
        ),
        "outbox": _count(
            await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.status.in_(("sent", "undeliverable", "parked")),
                    OutboxMessage.created_at < before(keep.outbox),
                )
            )
        ),
        "web_sessions": _count(
            await session.execute(
                delete(WebSession).where(WebSession.last_seen_at < before(keep.web_sessions))
            )
        ),
        "inbound_updates": _count(
            await session.execute(
                delete(InboundUpdate).where(
                    InboundUpdate.state.in_((DONE, FAILED)),
                    InboundUpdate.received_at < before(keep.inbox),
                )
            )
        ),
        "rate_counters": _count(
            await session.execute(delete(RateCounter).where(RateCounter.expires_at < now))
        ),
    }
    # The audit log refuses deletes unless the purge announces itself (see AuditPurge).
    session.add(AuditPurge(id=1))
    await session.flush()
    out["audit_log"] = _count(
        await session.execute(delete(AuditLog).where(AuditLog.at < before(keep.audit)))
    )
    await session.execute(delete(AuditPurge))
    return out


async def forget(
    session: AsyncSession, *, channel: str, user_id: str, user_hash: str
) -> dict[str, int]:
    """Remove one person's personal data; keep anonymous counts and ratings."""
    chat = (ChatStateRow.user_hash == user_hash) | (
        (ChatStateRow.channel == channel) & (ChatStateRow.chat_id == user_id)  # before 0014
    )
    return {
        "questions": _count(
            await session.execute(
                update(MessageLog)
                .where(MessageLog.user_hash == user_hash)
                .values(question=ERASED_TEXT, user_hash=FORGOTTEN)
            )
        ),
        "answer_ratings": _count(
            await session.execute(
                update(AnswerFeedback)
                .where(AnswerFeedback.user_hash == user_hash)
                .values(user_hash=FORGOTTEN)
            )
        ),
        "ratings": _count(
            await session.execute(
                update(FeedbackResponse)
                .where(FeedbackResponse.user_hash == user_hash)
                .values(user_hash=FORGOTTEN, comment="", dedupe_key=None)
            )
        ),
        "invitations": _count(
            await session.execute(
                update(FeedbackInvitation)
                .where(FeedbackInvitation.user_hash == user_hash)
                .values(user_hash=FORGOTTEN, chat_id="")
            )
        ),
        "lookups": _count(
            await session.execute(
                update(LookupAudit)
                .where(LookupAudit.user_hash == user_hash)
                .values(user_hash=FORGOTTEN)
            )
        ),
        "subscriptions": _count(
            await session.execute(delete(Subscription).where(Subscription.user_hash == user_hash))
        ),
        "notifications": _count(
            await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.channel == channel, OutboxMessage.chat_id == user_id
                )
            )
        ),
        "conversation": _count(await session.execute(delete(ChatStateRow).where(chat))),
        "role": _count(
            await session.execute(delete(RoleGrant).where(RoleGrant.user_hash == user_hash))
        ),
        "zalo_interactions": _count(
            await session.execute(delete(ZaloInteraction).where(ZaloInteraction.user_id == user_id))
            if channel == "zalo_oa"
            else None
        ),
        "reachability": _count(
            await session.execute(
                delete(ChannelRecipient).where(
                    ChannelRecipient.channel == channel, ChannelRecipient.chat_id == user_id
                )
            )
        ),
        # reflections (phản ánh, kiến nghị): storage/repositories/reflections.py
        **await reflection_repo.forget(session, user_hash, forgotten=FORGOTTEN, erased=ERASED_TEXT),
    }
