"""Reflections (phản ánh, kiến nghị): storing them, their steps, and who may see them.

Who may see a reflection (``visible_to``): staff whose agency subtree holds the agency that must
answer it, and, for a reflection about a dossier, only if that subtree also holds one of the
dossier's agencies (receiving or handling). Admins see every reflection. Callers check this
before showing or acting on one; listing applies the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Dossier, RoleGrant, utcnow
from storage.models.reflections import (
    OPEN,
    Reflection,
    ReflectionAttachment,
    ReflectionEvent,
)
from storage.repositories.roles import ADMIN, STAFF, Actor

LIST_LIMIT = 10


async def create(
    session: AsyncSession,
    *,
    subject: str,
    agency_id: int,
    dossier_id: int | None,
    message_id: int | None,
    channel: str,
    chat_id: str,
    user_hash: str,
    display_name: str,
    text: str,
    received: date,
    due: date,
) -> Reflection:
    """A new open reflection with its "received" event."""
    row = Reflection(
        created_at=utcnow(),
        received_date=received,
        due_date=due,
        subject=subject,
        agency_id=agency_id,
        dossier_id=dossier_id,
        message_id=message_id,
        channel=channel,
        chat_id=chat_id,
        user_hash=user_hash,
        display_name=display_name[:120],
        text=text,
        status=OPEN,
        answer="",
        reply_held=False,
    )
    session.add(row)
    await session.flush()
    await add_event(session, row.id, "received", user_hash, to_agency_id=agency_id)
    return row


async def add_event(
    session: AsyncSession,
    reflection_id: int,
    kind: str,
    actor_hash: str,
    *,
    from_agency_id: int | None = None,
    to_agency_id: int | None = None,
    note: str = "",
) -> None:
    session.add(
        ReflectionEvent(
            reflection_id=reflection_id,
            at=utcnow(),
            kind=kind,
            actor_hash=actor_hash,
            from_agency_id=from_agency_id,
            to_agency_id=to_agency_id,
            note=note,
        )
    )
    await session.flush()


async def add_attachment(
    session: AsyncSession,
    reflection_id: int,
    *,
    content: bytes,
    mime_type: str,
    width: int,
    height: int,
) -> None:
    session.add(
        ReflectionAttachment(
            reflection_id=reflection_id,
            created_at=utcnow(),
            mime_type=mime_type,
            width=width,
            height=height,
            size=len(content),
            content=content,
        )
    )
    await session.flush()


async def attachments_of(session: AsyncSession, reflection_id: int) -> list[ReflectionAttachment]:
    return list(
        await session.scalars(
            select(ReflectionAttachment)
            .where(ReflectionAttachment.reflection_id == reflection_id)
            .order_by(ReflectionAttachment.id)
        )
    )


async def sent_since(session: AsyncSession, user_hash: str, since: datetime) -> int:
    """How many reflections this person sent since ``since`` (the daily limit)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Reflection)
        .where(Reflection.user_hash == user_hash, Reflection.created_at >= since)
    )
    return int(count or 0)


def _in_subtree(agency: Agency | None, root_path: str) -> bool:
    return agency is not None and agency.path.startswith(root_path)


@dataclass(frozen=True, slots=True)
class Scope:
    """The agencies a reflection concerns: the one that must answer, and a dossier's."""

    agency: Agency
    dossier: Dossier | None
    dossier_agencies: tuple[Agency, ...]


async def scope_of(session: AsyncSession, reflection: Reflection) -> Scope:
    agency = await session.get(Agency, reflection.agency_id)
    assert agency is not None  # a foreign key
    dossier = await session.get(Dossier, reflection.dossier_id) if reflection.dossier_id else None
    agencies: list[Agency] = []
    if dossier is not None:
        for agency_id in {dossier.receiving_agency_id, dossier.handling_agency_id}:
            found = await session.get(Agency, agency_id)
            if found is not None:
                agencies.append(found)
    return Scope(agency, dossier, tuple(agencies))


def visible_in(scope: Scope, actor: Actor) -> bool:
    """The rule of this module's docstring, for one actor."""
    if actor.role == ADMIN:
        return True
    if actor.role != STAFF or actor.agency_path is None:
        return False
    if not _in_subtree(scope.agency, actor.agency_path):
        return False
    if scope.dossier is None:
        return True
    return any(_in_subtree(a, actor.agency_path) for a in scope.dossier_agencies)


def may_hold(scope: Scope, target: Agency) -> bool:
    """Whether a reflection may be forwarded to ``target``: a dossier's reflection only to an
    agency whose staff may see that dossier (one of its agencies, or above one)."""
    if scope.dossier is None:
        return True
    return any(a.path.startswith(target.path) for a in scope.dossier_agencies)


def handles(reflection: Reflection, actor: Actor) -> bool:
    """Whether the actor is staff of the agency that must answer (sees the identity)."""
    return actor.role == STAFF and actor.agency_id == reflection.agency_id


async def visible(session: AsyncSession, reflection_id: int, actor: Actor) -> Reflection | None:
    """The reflection if the actor may see it, else None (the same for "does not exist")."""
    row = await session.get(Reflection, reflection_id)
    if row is None or not visible_in(await scope_of(session, row), actor):
        return None
    return row


async def open_for(
    session: AsyncSession, actor: Actor, limit: int = LIST_LIMIT
) -> list[Reflection]:
    """Open reflections the actor may see, the most urgent (earliest due) first."""
    stmt = (
        select(Reflection)
        .join(Agency, Agency.id == Reflection.agency_id)
        .where(Reflection.status == OPEN)
        .order_by(Reflection.due_date, Reflection.id)
    )
    if actor.role != ADMIN:
        if actor.role != STAFF or actor.agency_path is None:
            return []
        stmt = stmt.where(Agency.path.startswith(actor.agency_path, autoescape=True))
    out: list[Reflection] = []
    for row in await session.scalars(stmt.limit(limit * 5)):
        if visible_in(await scope_of(session, row), actor):
            out.append(row)
            if len(out) == limit:
                break
    return out


async def overdue_unescalated(
    session: AsyncSession, today: date, limit: int = 200
) -> Sequence[Reflection]:
    """Open reflections past their due date that were not escalated yet."""
    return (
        await session.scalars(
            select(Reflection)
            .where(
                Reflection.status == OPEN,
                Reflection.due_date < today,
                Reflection.escalated_at.is_(None),
            )
            .order_by(Reflection.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def staff_of(session: AsyncSession, agency_id: int) -> list[RoleGrant]:
    """Staff granted at exactly this agency (not those above it)."""
    return list(
        await session.scalars(
            select(RoleGrant).where(RoleGrant.role == STAFF, RoleGrant.agency_id == agency_id)
        )
    )


async def admins(session: AsyncSession) -> list[RoleGrant]:
    return list(await session.scalars(select(RoleGrant).where(RoleGrant.role == ADMIN)))


async def held_for_chat(session: AsyncSession, channel: str, chat_id: str) -> list[Reflection]:
    """Answered reflections whose reply waits for this chat to write again."""
    return list(
        await session.scalars(
            select(Reflection)
            .where(
                Reflection.channel == channel,
                Reflection.chat_id == chat_id,
                Reflection.reply_held.is_(True),
            )
            .order_by(Reflection.id)
            .with_for_update()
        )
    )


async def forget(
    session: AsyncSession, user_hash: str, *, forgotten: str, erased: str
) -> dict[str, int]:
    """Remove a citizen's personal data from their reflections (name, chat, text, photos);
    the dates, agency, status and verdict stay for the statistics."""
    mine = select(Reflection.id).where(Reflection.user_hash == user_hash)
    photos = await session.execute(
        delete(ReflectionAttachment).where(ReflectionAttachment.reflection_id.in_(mine))
    )
    rows = await session.execute(
        update(Reflection)
        .where(Reflection.user_hash == user_hash)
        .values(user_hash=forgotten, display_name="", chat_id="", text=erased, reply_held=False)
    )
    return {
        "reflections": int(getattr(rows, "rowcount", 0) or 0),
        "reflection_photos": int(getattr(photos, "rowcount", 0) or 0),
    }
