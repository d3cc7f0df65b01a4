"""The register of legal documents and the review list of knowledge entries, in the database.

The bundled register files seed and update the ``legal_documents`` table; an admin's marking
(expired, replaced, caveat) is kept whatever a later bundled file says. The review list stores
each ``ReviewNeed`` once (unique per entry, document and event), resolves items whose reason has
gone, and reopens an item whose reason came back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.register import LegalDocument, Register, key_of
from knowledge.review import ReviewNeed
from storage.models import utcnow
from storage.models.register import KbReviewItem, LegalDocumentRow
from storage.repositories._core import core_connection
from storage.repositories._upsert import insert_ignore

BUNDLED, ADMIN = "bundled", "admin"


def _document(row: LegalDocumentRow) -> LegalDocument:
    return LegalDocument(
        number=row.number,
        title=row.title,
        issuer=row.issuer,
        effective=row.effective,
        issued=row.issued,
        expired=row.expired,
        replaced_by=row.replaced_by,
        source_url=row.source_url,
        caveat=row.caveat,
    )


async def register(session: AsyncSession) -> Register:
    rows = await session.scalars(select(LegalDocumentRow).order_by(LegalDocumentRow.number))
    return Register({r.number: _document(r) for r in rows})


async def _row(session: AsyncSession, number: str) -> LegalDocumentRow | None:
    row = await session.get(LegalDocumentRow, number)
    if row is not None:
        return row
    key = key_of(number)
    for candidate in await session.scalars(select(LegalDocumentRow)):
        if key_of(candidate.number) == key:
            return candidate
    return None


async def sync_documents(
    session: AsyncSession, documents: Sequence[LegalDocument], *, origin: str = BUNDLED
) -> int:
    """Add or update documents from a register file; returns how many rows changed.

    Rows an admin changed keep their expiry, replacement and caveat unless the file sets them;
    a bundled file never overrides an admin's row.
    """
    changed = 0
    for d in documents:
        row = await _row(session, d.number)
        if row is None:
            # Several processes starting at once all load the bundled register: first one wins.
            changed += await insert_ignore(
                session,
                LegalDocumentRow,
                number=d.number,
                title=d.title,
                issuer=d.issuer,
                issued=d.issued,
                effective=d.effective,
                expired=d.expired,
                replaced_by=d.replaced_by,
                source_url=d.source_url,
                caveat=d.caveat,
                origin=origin,
                updated_at=utcnow(),
            )
            continue
        if row.origin == ADMIN and origin == BUNDLED:
            continue
        values = {
            "title": d.title,
            "issuer": d.issuer,
            "issued": d.issued or row.issued,
            "effective": d.effective,
            "expired": d.expired or row.expired,
            "replaced_by": d.replaced_by or row.replaced_by,
            "source_url": d.source_url or row.source_url,
        }
        if any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.origin = origin
            changed += 1
    await session.flush()
    return changed


async def mark_replaced(
    session: AsyncSession, number: str, by: str, on: date, *, caveat: bool | None = None
) -> LegalDocument | None:
    """An admin marks a document replaced by another from ``on``; None if it is unknown."""
    row = await _row(session, number)
    if row is None:
        return None
    successor = await _row(session, by)
    row.replaced_by = successor.number if successor else by
    row.expired = on.isoformat()
    row.origin = ADMIN
    if caveat is not None:
        row.caveat = caveat
    await session.flush()
    return _document(row)


async def mark_expired(
    session: AsyncSession, number: str, on: date, *, caveat: bool | None = None
) -> LegalDocument | None:
    """An admin sets the date a document stops being in force; None if it is unknown."""
    row = await _row(session, number)
    if row is None:
        return None
    row.expired = on.isoformat()
    row.origin = ADMIN
    if caveat is not None:
        row.caveat = caveat
    await session.flush()
    return _document(row)


async def set_caveat(session: AsyncSession, number: str, on: bool) -> LegalDocument | None:
    row = await _row(session, number)
    if row is None:
        return None
    row.caveat = on
    row.origin = ADMIN
    await session.flush()
    return _document(row)


# ------------------------------------------------------------------ the review list


@dataclass(frozen=True, slots=True)
class ReviewChange:
    """What one synchronisation of the review list did."""

    opened: tuple[KbReviewItem, ...]
    resolved: int


async def sync_review(session: AsyncSession, needs: Sequence[ReviewNeed]) -> ReviewChange:
    """Store the current needs: new ones opened, gone ones resolved, returning ones reopened."""
    wanted = {n.key: n for n in needs}
    rows = {
        (r.entry_id, r.document_number, r.event): r
        for r in await session.scalars(select(KbReviewItem))
    }
    opened: list[KbReviewItem] = []
    resolved = 0
    now = utcnow()
    for key, row in rows.items():
        if key not in wanted and row.resolved_at is None:
            row.resolved_at = now
            resolved += 1
        elif key in wanted and row.resolved_at is not None:
            row.resolved_at = None
    for key, need in wanted.items():
        if key in rows:
            continue
        inserted = await insert_ignore(
            session,
            KbReviewItem,
            entry_id=need.entry_id,
            document_number=need.document_number,
            reason=need.reason,
            event=need.event,
            since=need.since,
            created_at=now,
        )
        if inserted:  # another process may have stored it a moment ago: it alerts, not us
            stored = await session.scalar(
                select(KbReviewItem).where(
                    KbReviewItem.entry_id == need.entry_id,
                    KbReviewItem.document_number == need.document_number,
                    KbReviewItem.event == need.event,
                )
            )
            if stored is not None:
                opened.append(stored)
    await session.flush()
    return ReviewChange(tuple(opened), resolved)


async def open_items(session: AsyncSession) -> list[KbReviewItem]:
    return list(
        await session.scalars(
            select(KbReviewItem)
            .where(KbReviewItem.resolved_at.is_(None))
            .order_by(KbReviewItem.since, KbReviewItem.entry_id, KbReviewItem.id)
        )
    )


async def caveat_applies(session: AsyncSession, entry_id: str, *, everywhere: bool) -> bool:
    """Whether an answer from this entry carries the under-review caveat.

    ``everywhere`` is the admin's global choice (a setting); otherwise only items about a
    document the admin flagged for a caveat count.
    """
    conn = await core_connection(session)  # runs for every answer: Core, no ORM objects
    items = (await conn.execute(_OPEN_REVIEW_DOCUMENTS, {"entry_id": entry_id})).all()
    if not items:
        return False
    if everywhere:
        return True
    numbers = {i.document_number for i in items if i.document_number}
    if not numbers:
        return False
    flagged = await session.scalar(
        select(LegalDocumentRow.number).where(
            LegalDocumentRow.number.in_(numbers), LegalDocumentRow.caveat.is_(True)
        )
    )
    return flagged is not None


_OPEN_REVIEW_DOCUMENTS = select(KbReviewItem.document_number).where(
    KbReviewItem.entry_id == bindparam("entry_id"), KbReviewItem.resolved_at.is_(None)
)
