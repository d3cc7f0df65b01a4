"""Agencies, procedures, dossiers, their history and pauses, and lookup audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agency,
    Dossier,
    DossierEvent,
    DossierPause,
    LookupAudit,
    Procedure,
    utcnow,
)
from storage.repositories._upsert import insert_ignore


async def agencies_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, Agency]:
    if not codes:
        return {}
    rows = await session.scalars(select(Agency).where(Agency.code.in_(set(codes))))
    return {a.code: a for a in rows}


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return await session.scalar(select(Agency).where(Agency.code == code))


async def procedures_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, Procedure]:
    if not codes:
        return {}
    rows = await session.scalars(select(Procedure).where(Procedure.code.in_(set(codes))))
    return {p.code: p for p in rows}


async def add_agency(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    level: str,
    parent: Agency | None = None,
    illustrative: bool = False,
) -> Agency:
    """Insert an agency and set its subtree path."""
    agency = Agency(
        code=code,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        illustrative=illustrative,
    )
    session.add(agency)
    await session.flush()
    agency.path = f"{parent.path if parent else '/'}{agency.id}/"
    await session.flush()
    return agency


def in_subtree(agency: Agency, root: Agency) -> bool:
    return agency.path.startswith(root.path)


async def dossiers_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, Dossier]:
    if not codes:
        return {}
    rows = await session.scalars(
        select(Dossier).where(Dossier.code.in_(set(codes))).with_for_update()
    )
    return {d.code: d for d in rows}


async def dossier_by_code(session: AsyncSession, code: str) -> Dossier | None:
    return await session.scalar(select(Dossier).where(Dossier.code == code))


async def add_event(
    session: AsyncSession,
    *,
    dossier: Dossier,
    source_id: str,
    at: datetime,
    to_status: int,
    note: str = "",
) -> DossierEvent | None:
    """Record a status event unless its source id was seen before (then None)."""
    inserted = await insert_ignore(
        session,
        DossierEvent,
        dossier_id=dossier.id,
        source_id=source_id,
        at=at,
        from_status=dossier.status,
        to_status=to_status,
        note=note,
    )
    if not inserted:
        return None
    return await session.scalar(select(DossierEvent).where(DossierEvent.source_id == source_id))


async def open_pause(session: AsyncSession, dossier: Dossier, day: date, reason: str) -> None:
    session.add(DossierPause(dossier_id=dossier.id, requested_date=day, reason=reason))
    await session.flush()


async def close_pause(session: AsyncSession, dossier: Dossier, day: date) -> None:
    pause = await session.scalar(
        select(DossierPause)
        .where(DossierPause.dossier_id == dossier.id, DossierPause.resumed_date.is_(None))
        .order_by(DossierPause.id.desc())
        .limit(1)
    )
    if pause is not None:
        pause.resumed_date = max(day, pause.requested_date)


async def pauses_of(session: AsyncSession, dossier_id: int) -> list[tuple[date, date | None]]:
    rows = await session.execute(
        select(DossierPause.requested_date, DossierPause.resumed_date)
        .where(DossierPause.dossier_id == dossier_id)
        .order_by(DossierPause.requested_date)
    )
    return [(r[0], r[1]) for r in rows]


async def record_lookup(
    session: AsyncSession,
    *,
    channel: str,
    user_hash: str,
    code: str,
    dossier_id: int | None,
    outcome: str,
) -> None:
    session.add(
        LookupAudit(
            channel=channel,
            user_hash=user_hash,
            code=code[:40],
            dossier_id=dossier_id,
            outcome=outcome,
        )
    )
    await session.flush()


async def failed_lookups(
    session: AsyncSession,
    *,
    user_hash: str | None = None,
    code: str | None = None,
    window: timedelta,
) -> tuple[int, datetime | None]:
    """Failed verifications in the window (by user or by dossier code) and the oldest one."""
    since = utcnow() - window
    query = select(func.count(), func.min(LookupAudit.at)).where(
        LookupAudit.outcome == "failed", LookupAudit.at >= since
    )
    if user_hash is not None:
        query = query.where(LookupAudit.user_hash == user_hash)
    if code is not None:
        query = query.where(LookupAudit.code == code)
    row = (await session.execute(query)).one()
    return int(row[0] or 0), row[1]
