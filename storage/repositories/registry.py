"""A city's own agencies and procedures, read and written whole for file import and export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Procedure


@dataclass(frozen=True, slots=True)
class AgencyValues:
    """An agency as the file gives it; the parent by code (``None`` for a root)."""

    code: str
    name: str
    parent_code: str | None
    level: str


@dataclass(frozen=True, slots=True)
class ProcedureValues:
    """A procedure as the file gives it: its legal time limit and that limit's unit."""

    code: str
    name: str
    field: str
    time_limit: int | None
    time_unit: str


async def all_agencies(session: AsyncSession) -> list[Agency]:
    """Every agency, parents before children."""
    return list(await session.scalars(select(Agency).order_by(Agency.path, Agency.id)))


async def all_procedures(session: AsyncSession) -> list[Procedure]:
    return list(await session.scalars(select(Procedure).order_by(Procedure.code)))


def agency_values(agency: Agency, codes_by_id: Mapping[int, str]) -> AgencyValues:
    parent = codes_by_id.get(agency.parent_id) if agency.parent_id is not None else None
    return AgencyValues(agency.code, agency.name, parent, agency.level)


def procedure_values(p: Procedure) -> ProcedureValues:
    return ProcedureValues(p.code, p.name, p.field, p.time_limit, p.time_unit)


async def save_agencies(session: AsyncSession, rows: Sequence[AgencyValues]) -> None:
    """Insert or update agencies by code (in the caller's transaction), then recompute every
    subtree path from the parents, since a moved agency moves its whole subtree. The caller
    has checked that parents exist and form no cycle."""
    existing = {a.code: a for a in await all_agencies(session)}
    for row in rows:
        agency = existing.get(row.code)
        if agency is None:
            agency = Agency(code=row.code, name=row.name, level=row.level, path="/")
            session.add(agency)
            existing[row.code] = agency
        else:
            agency.name, agency.level = row.name, row.level
    await session.flush()
    for row in rows:
        parent = existing.get(row.parent_code) if row.parent_code else None
        existing[row.code].parent_id = parent.id if parent is not None else None
    await session.flush()
    by_id = {a.id: a for a in existing.values()}

    def path(agency: Agency, depth: int = 0) -> str:
        if agency.parent_id is None or depth > len(by_id):
            return f"/{agency.id}/"
        return f"{path(by_id[agency.parent_id], depth + 1)}{agency.id}/"

    for agency in by_id.values():
        new_path = path(agency)
        if agency.path != new_path:
            agency.path = new_path
    await session.flush()


async def save_procedures(session: AsyncSession, rows: Sequence[ProcedureValues]) -> None:
    """Insert or update procedures by code; columns the file does not carry are left alone."""
    existing = {p.code: p for p in await all_procedures(session)}
    for row in rows:
        procedure = existing.get(row.code)
        if procedure is None:
            procedure = Procedure(code=row.code)
            session.add(procedure)
        procedure.name = row.name
        procedure.field = row.field
        procedure.time_limit = row.time_limit
        procedure.time_unit = row.time_unit
    await session.flush()
