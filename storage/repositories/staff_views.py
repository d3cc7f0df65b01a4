"""Reads for the console's drill-down: the dossiers behind a figure, one row each.

The population is the statistics' own (``stats._population``: received or processed in the
period, in the agency subtree, for the procedure), and the verdict of each row is left to
``bot.dossiers.timeliness.timeliness`` itself by the caller: nothing here judges a dossier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Dossier, DossierPause, Procedure
from storage.models_admin import AuditLog
from storage.repositories import stats as stats_repo

MAX_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class DossierLine:
    """A dossier as the drill-down lists it (no identifiers of its owner but the masked name)."""

    row: stats_repo.DossierRow
    code: str
    owner_masked: str


async def population(
    session: AsyncSession, f: stats_repo.Filter, limit: int = MAX_ROWS
) -> tuple[list[DossierLine], bool]:
    """The period's dossiers of a scope with what ``DossierTimes`` needs; and whether the
    list was cut at ``limit``."""
    D = Dossier
    stmt = (
        select(
            D.id,
            D.handling_agency_id,
            D.procedure_id,
            D.received_date,
            D.due_date,
            D.rescheduled_due_date,
            D.finished_date,
            D.status,
            D.supplement_count,
            Procedure.time_limit,
            Procedure.time_unit,
            D.code,
            D.owner_name_masked,
        )
        .join(Procedure, Procedure.id == D.procedure_id)
        .where(*stats_repo._population(f))
        .order_by(D.received_date, D.id)
        .limit(limit + 1)
    )
    rows = list(await session.execute(stmt))
    cut = len(rows) > limit
    rows = rows[:limit]
    pauses: dict[int, list[tuple[date, date | None]]] = {}
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        found = await session.execute(
            select(DossierPause.dossier_id, DossierPause.requested_date, DossierPause.resumed_date)
            .where(DossierPause.dossier_id.in_(part))
            .order_by(DossierPause.dossier_id, DossierPause.requested_date)
        )
        for did, requested, resumed in found:
            pauses.setdefault(did, []).append((requested, resumed))
    out = [
        DossierLine(
            stats_repo.DossierRow(
                r[0], r[1], r[2], r[3] or date.min, r[4], r[5], r[6], r[7], r[8], r[9],
                r[10] or "", tuple(pauses.get(r[0], ())),
            ),
            r[11],
            r[12] or "",
        )
        for r in rows
    ]  # fmt: skip
    return out, cut


async def audit_rows(
    session: AsyncSession,
    *,
    actor_hash: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[AuditLog]:
    """Audit rows newest first, filtered by actor, action and time."""
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    if actor_hash:
        stmt = stmt.where(AuditLog.actor_hash == actor_hash)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= since)
    if until is not None:
        stmt = stmt.where(AuditLog.at < until)
    return list(await session.scalars(stmt))


async def audit_actions(session: AsyncSession) -> list[str]:
    return sorted(str(a) for a in await session.scalars(select(AuditLog.action).distinct()))
