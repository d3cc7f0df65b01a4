"""Knowledge-base changes made by admins: each one written with its history, undoable one step.

Every write goes through ``write``, which changes the entry and records a ``kb_history`` row with
the entry before and after (``None`` when absent), so that "who changed what, when" is always
answerable and the last change of any entry can be rolled back. Callers bump the revision once
per operation (``storage.repositories.kb.bump_revision``) so every process rebuilds its index.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.entry import ID_PATTERN, MAX_ID_LENGTH, Entry
from knowledge.normalize import fold
from storage.models import KbEntry, utcnow
from storage.models.admin import KbHistory, PendingImport
from storage.repositories import kb as kb_repo
from storage.repositories.audit import aware

PENDING_TTL = timedelta(hours=1)
_SLUG_CHUNK = re.compile(r"[^a-z0-9]+")


# ------------------------------------------------------------------ snapshots


def snapshot(entry: Entry | None) -> dict[str, Any] | None:
    """An entry as JSON data (lists, not tuples), or None for "no such entry"."""
    if entry is None:
        return None
    data = asdict(entry)
    data["alternatives"] = list(entry.alternatives)
    data["keywords"] = list(entry.keywords)
    return data


def from_snapshot(data: dict[str, Any]) -> Entry:
    values = dict(data)
    values["alternatives"] = tuple(values.get("alternatives") or ())
    values["keywords"] = tuple(values.get("keywords") or ())
    return Entry(**values)


def fingerprint(entries: Iterable[Entry | None]) -> str:
    """A short digest of entries as they are now; a confirmation checks it has not moved."""
    raw = json.dumps([snapshot(e) for e in entries], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _values(entry: Entry) -> dict[str, Any]:
    data = snapshot(entry)
    assert data is not None
    data.pop("id")
    return data


# ------------------------------------------------------------------ reading


async def get(session: AsyncSession, entry_id: str, *, for_update: bool = False) -> Entry | None:
    """One entry, enabled or not; ``for_update`` locks its row until the transaction ends."""
    stmt = select(KbEntry).where(KbEntry.id == entry_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.scalars(stmt)).first()
    return kb_repo.to_entry(row) if row is not None else None


async def ids(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(KbEntry.id).order_by(KbEntry.id)))


async def of_category(
    session: AsyncSession, category: str, *, for_update: bool = False
) -> list[Entry]:
    stmt = select(KbEntry).where(KbEntry.category == category).order_by(KbEntry.id)
    if for_update:
        stmt = stmt.with_for_update()
    return [kb_repo.to_entry(r) for r in await session.scalars(stmt)]


async def categories(session: AsyncSession) -> list[tuple[str, int, int]]:
    """Every category with its number of entries and of enabled entries, largest first."""
    enabled = func.sum(case((KbEntry.enabled.is_(True), 1), else_=0))
    rows = await session.execute(
        select(KbEntry.category, func.count(), enabled).group_by(KbEntry.category)
    )
    found = [(str(c), int(n), int(on or 0)) for c, n, on in rows]
    return sorted(found, key=lambda x: (-x[1], x[0]))


# ------------------------------------------------------------------ writing with history


async def write(
    session: AsyncSession,
    before: Entry | None,
    after: Entry | None,
    *,
    actor_hash: str,
    action: str,
    batch: str | None = None,
) -> KbHistory:
    """Make the entry ``after`` (None deletes it) and record the change; no revision bump."""
    if after is not None:
        entry_id = after.id
    elif before is not None:
        entry_id = before.id
    else:
        raise ValueError("a change needs an entry before or after")
    if after is None:
        await session.execute(delete(KbEntry).where(KbEntry.id == entry_id))
    elif before is None:
        session.add(KbEntry(id=after.id, **_values(after)))
    else:
        await session.execute(
            update(KbEntry)
            .where(KbEntry.id == entry_id)
            .values(**_values(after), updated_at=utcnow())
        )
    row = KbHistory(
        entry_id=entry_id,
        at=utcnow(),
        actor_hash=actor_hash,
        action=action,
        before=snapshot(before),
        after=snapshot(after),
        batch=batch,
    )
    session.add(row)
    await session.flush()
    return row


async def history(session: AsyncSession, entry_id: str, limit: int = 5) -> list[KbHistory]:
    """The newest changes of an entry first."""
    rows = await session.scalars(
        select(KbHistory)
        .where(KbHistory.entry_id == entry_id)
        .order_by(KbHistory.id.desc())
        .limit(limit)
    )
    return list(rows)


async def last_change(session: AsyncSession, entry_id: str) -> KbHistory | None:
    found = await history(session, entry_id, 1)
    return found[0] if found else None


async def batch_changes(session: AsyncSession, batch: str) -> list[KbHistory]:
    rows = await session.scalars(
        select(KbHistory).where(KbHistory.batch == batch).order_by(KbHistory.id)
    )
    return list(rows)


def restored(change: KbHistory) -> Entry | None:
    """What rolling back ``change`` brings back: the entry before it (None: it did not exist)."""
    return from_snapshot(change.before) if change.before is not None else None


async def rollback(
    session: AsyncSession, change: KbHistory, *, actor_hash: str, batch: str | None = None
) -> KbHistory:
    """Undo one recorded change; the undo is itself a change with its own history row."""
    current = await get(session, change.entry_id, for_update=True)
    return await write(
        session, current, restored(change), actor_hash=actor_hash, action="rollback", batch=batch
    )


# ------------------------------------------------------------------ new entries


def slug(text: str, limit: int) -> str:
    """Lower-case ASCII words joined by '-', cut at a word boundary within ``limit``."""
    words = [w for w in _SLUG_CHUNK.split(fold(text)) if w]
    out = ""
    for w in words:
        candidate = f"{out}-{w}" if out else w
        if len(candidate) > limit:
            break
        out = candidate
    return out or (words[0][:limit] if words else "")


async def new_id(session: AsyncSession, category: str, question: str) -> str:
    """A unique id "category-slug/question-slug", with "-2", "-3"... when taken."""
    head = slug(category, 30) or "khac"
    tail = slug(question, 44) or "muc"
    base = f"{head}/{tail}"
    taken = set(await session.scalars(select(KbEntry.id).where(KbEntry.id.like(f"{base}%"))))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    assert ID_PATTERN.fullmatch(candidate), candidate
    assert len(candidate) <= MAX_ID_LENGTH, candidate
    return candidate


# ------------------------------------------------------------------ imports


async def create_pending(
    session: AsyncSession,
    *,
    actor_hash: str,
    file_name: str,
    fmt: str,
    entries: Sequence[Entry],
) -> str:
    """Keep validated entries until the admin confirms; returns the nonce naming them.

    Expired rows of every admin are purged here, so the table never grows without bound.
    """
    now = utcnow()
    await session.execute(delete(PendingImport).where(PendingImport.expires_at < now))
    nonce = secrets.token_hex(6)
    session.add(
        PendingImport(
            nonce=nonce,
            actor_hash=actor_hash,
            created_at=now,
            expires_at=now + PENDING_TTL,
            file_name=file_name[:200],
            fmt=fmt,
            entries=[snapshot(e) for e in entries],
        )
    )
    await session.flush()
    return nonce


async def pending(
    session: AsyncSession, nonce: str, actor_hash: str, now: datetime | None = None
) -> PendingImport | None:
    """The pending import of this admin with this nonce, unless it expired or was applied."""
    row = (await session.scalars(select(PendingImport).where(PendingImport.nonce == nonce))).first()
    if row is None or row.actor_hash != actor_hash:
        return None
    if aware(row.expires_at) <= (now or utcnow()):
        return None
    return row


def pending_entries(row: PendingImport) -> list[Entry]:
    return [from_snapshot(d) for d in row.entries]


async def drop_pending(session: AsyncSession, nonce: str) -> None:
    await session.execute(delete(PendingImport).where(PendingImport.nonce == nonce))


async def import_entries(
    session: AsyncSession,
    incoming: Sequence[Entry],
    *,
    replace: bool,
    actor_hash: str,
    batch: str,
) -> kb_repo.ImportPlan:
    """Apply a validated file, each entry with its history row under one ``batch``."""
    current = {e.id: e for e in await kb_repo.all_entries(session)}
    plan = kb_repo.plan_import(list(current.values()), incoming, replace=replace)
    by_id = {e.id: e for e in incoming}
    for eid in plan.added:
        await write(session, None, by_id[eid], actor_hash=actor_hash, action="import", batch=batch)
    for eid in plan.changed:
        await write(
            session, current[eid], by_id[eid], actor_hash=actor_hash, action="import", batch=batch
        )
    for eid in plan.removed:
        await write(
            session, current[eid], None, actor_hash=actor_hash, action="import", batch=batch
        )
    return plan


def touched(current: dict[str, Entry], plan: kb_repo.ImportPlan) -> list[Entry | None]:
    """The current state of every entry a plan touches (None for ids it adds), in plan order."""
    return [current.get(i) for i in (*plan.added, *plan.changed, *plan.removed)]
