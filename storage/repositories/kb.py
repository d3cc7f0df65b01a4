"""Knowledge entries in the database, the revision counter, and file imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.entry import Entry
from storage.models import KbEntry, KbState, utcnow
from storage.repositories._upsert import insert_ignore

_STATE_ID = 1


def to_entry(row: KbEntry) -> Entry:
    return Entry(
        id=row.id,
        category=row.category,
        procedure=row.procedure,
        question=row.question,
        alternatives=tuple(row.alternatives or ()),
        keywords=tuple(row.keywords or ()),
        answer=row.answer,
        legal_basis=row.legal_basis,
        source_url=row.source_url,
        enabled=row.enabled,
        aspect=row.aspect,
        legal_refs=tuple(row.legal_refs or ()),
        reviewed=row.reviewed,
        review_by=row.review_by,
    )


def _values(entry: Entry) -> dict[str, object]:
    return {
        "category": entry.category,
        "procedure": entry.procedure,
        "question": entry.question,
        "alternatives": list(entry.alternatives),
        "keywords": list(entry.keywords),
        "answer": entry.answer,
        "legal_basis": entry.legal_basis,
        "source_url": entry.source_url,
        "enabled": entry.enabled,
        "aspect": entry.aspect,
        "legal_refs": list(entry.legal_refs),
        "reviewed": entry.reviewed,
        "review_by": entry.review_by,
    }


async def all_entries(session: AsyncSession) -> list[Entry]:
    rows = await session.scalars(select(KbEntry).order_by(KbEntry.id))
    return [to_entry(r) for r in rows]


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(KbEntry)) or 0)


async def revision(session: AsyncSession) -> int:
    return int(await session.scalar(select(KbState.revision).where(KbState.id == _STATE_ID)) or 0)


async def bump_revision(session: AsyncSession) -> int:
    """Increase the revision so that every process rebuilds its index."""
    await insert_ignore(session, KbState, id=_STATE_ID, revision=0, updated_at=utcnow())
    await session.execute(
        update(KbState)
        .where(KbState.id == _STATE_ID)
        .values(revision=KbState.revision + 1, updated_at=utcnow())
    )
    return await revision(session)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import adds, changes and removes, by entry id."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def plan_import(
    current: Sequence[Entry], incoming: Sequence[Entry], *, replace: bool
) -> ImportPlan:
    """Compare a file with the base: merge by id, or replace the whole base."""
    now = {e.id: e for e in current}
    new_ids = {e.id for e in incoming}
    added = tuple(e.id for e in incoming if e.id not in now)
    changed = tuple(e.id for e in incoming if e.id in now and now[e.id] != e)
    removed = tuple(sorted(i for i in now if i not in new_ids)) if replace else ()
    unchanged = sum(1 for e in incoming if e.id in now and now[e.id] == e)
    return ImportPlan(added, changed, removed, unchanged)


async def apply_import(
    session: AsyncSession, incoming: Sequence[Entry], *, replace: bool, dry_run: bool = False
) -> ImportPlan:
    """Merge (or replace with) a validated file inside the caller's transaction."""
    plan = plan_import(await all_entries(session), incoming, replace=replace)
    if dry_run or plan.is_empty:
        return plan
    by_id = {e.id: e for e in incoming}
    for eid in plan.added:
        session.add(KbEntry(id=eid, **_values(by_id[eid])))
    for eid in plan.changed:
        await session.execute(
            update(KbEntry)
            .where(KbEntry.id == eid)
            .values(**_values(by_id[eid]), updated_at=utcnow())
        )
    if plan.removed:
        await session.execute(delete(KbEntry).where(KbEntry.id.in_(plan.removed)))
    await session.flush()
    await bump_revision(session)
    return plan
