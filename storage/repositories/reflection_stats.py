"""The rows that reflection statistics are computed from (``bot.domain.stats.reflections``).

Kept apart from ``storage.repositories.stats`` (the dossier and rating figures). One row per
reflection received in the period, with the agency that must answer it now (after forwards):
reflections are few compared with dossiers, so the judging is done in Python on these rows,
where it is easy to check by hand, rather than in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency
from storage.models.reflections import Reflection


@dataclass(frozen=True, slots=True)
class ReflectionRow:
    agency_code: str
    agency_name: str
    agency_path: str
    received_date: date
    due_date: date
    handled_date: date | None
    status: str
    resolved: bool | None


async def reflection_rows(
    session: AsyncSession, start: date, end: date, agency: Agency | None
) -> list[ReflectionRow]:
    """Reflections received in [start, end] whose answering agency is ``agency`` or under it
    (every agency when None)."""
    stmt = (
        select(
            Agency.code,
            Agency.name,
            Agency.path,
            Reflection.received_date,
            Reflection.due_date,
            Reflection.handled_date,
            Reflection.status,
            Reflection.resolved,
        )
        .join(Agency, Agency.id == Reflection.agency_id)
        .where(Reflection.received_date >= start, Reflection.received_date <= end)
        .order_by(Agency.path, Reflection.id)
    )
    if agency is not None:
        stmt = stmt.where(Agency.path.startswith(agency.path, autoescape=True))
    return [ReflectionRow(*row) for row in await session.execute(stmt)]
