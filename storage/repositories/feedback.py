"""Ratings: invitations, responses and their raw answers."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FeedbackAnswer, FeedbackInvitation, FeedbackResponse, utcnow
from storage.repositories._upsert import insert_ignore


def dossier_key(dossier_id: int, user_hash: str) -> str:
    return f"dossier:{dossier_id}:{user_hash}"


async def invite(
    session: AsyncSession, *, dossier_id: int, channel: str, chat_id: str, user_hash: str
) -> FeedbackInvitation | None:
    """Record an invitation, unless this owner was already invited for this dossier."""
    exists = await session.scalar(
        select(FeedbackInvitation.id).where(
            FeedbackInvitation.dossier_id == dossier_id, FeedbackInvitation.user_hash == user_hash
        )
    )
    if exists is not None:
        return None
    row = FeedbackInvitation(
        dossier_id=dossier_id, channel=channel, chat_id=chat_id, user_hash=user_hash
    )
    session.add(row)
    await session.flush()
    return row


async def already_rated(session: AsyncSession, dossier_id: int, user_hash: str) -> bool:
    key = dossier_key(dossier_id, user_hash)
    return (
        await session.scalar(select(FeedbackResponse.id).where(FeedbackResponse.dedupe_key == key))
    ) is not None


async def respond(
    session: AsyncSession,
    *,
    kind: str,
    channel: str,
    user_hash: str,
    dossier_id: int | None,
    agency_id: int | None,
    procedure_id: int | None,
    invitation_id: int | None,
    dedupe_key: str | None = None,
) -> FeedbackResponse | None:
    """A new response; None when this owner already rated this dossier (one rating each), or
    when a response with ``dedupe_key`` exists (a service point rated again the same day)."""
    key = dossier_key(dossier_id, user_hash) if dossier_id is not None else dedupe_key
    if key is not None:
        inserted = await insert_ignore(
            session,
            FeedbackResponse,
            kind=kind,
            dedupe_key=key,
            dossier_id=dossier_id,
            agency_id=agency_id,
            procedure_id=procedure_id,
            channel=channel,
            user_hash=user_hash,
            invitation_id=invitation_id,
            submitted_at=utcnow(),
            respondent="citizen",
            comment="",
        )
        if not inserted:
            return None
        if invitation_id is not None:
            await mark_responded(session, invitation_id)
        return await session.scalar(
            select(FeedbackResponse).where(FeedbackResponse.dedupe_key == key)
        )
    row = FeedbackResponse(
        kind=kind,
        dossier_id=None,
        agency_id=agency_id,
        procedure_id=procedure_id,
        channel=channel,
        user_hash=user_hash,
        invitation_id=None,
        comment="",
    )
    session.add(row)
    await session.flush()
    if invitation_id is not None:
        await mark_responded(session, invitation_id)
    return row


async def mark_responded(session: AsyncSession, invitation_id: int) -> None:
    await session.execute(
        update(FeedbackInvitation)
        .where(FeedbackInvitation.id == invitation_id, FeedbackInvitation.responded_at.is_(None))
        .values(responded_at=utcnow())
    )


async def answer(
    session: AsyncSession,
    *,
    response_id: int,
    item_code: str,
    aspect: str,
    scale: str,
    value: int | None,
    kind: str = "hai_long",
) -> FeedbackAnswer:
    """Store one raw answer; a skipped item (no value) is kept, marked not valid."""
    row = FeedbackAnswer(
        response_id=response_id,
        item_code=item_code,
        aspect=aspect,
        kind=kind,
        scale=scale,
        value=value,
        is_valid=value is not None,
    )
    session.add(row)
    await session.flush()
    return row


async def set_comment(session: AsyncSession, response_id: int, comment: str) -> None:
    await session.execute(
        update(FeedbackResponse).where(FeedbackResponse.id == response_id).values(comment=comment)
    )
