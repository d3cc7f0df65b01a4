"""Tables of the legal-document register and the review list of knowledge entries.

Kept apart from ``storage.models``; created by migration 0012. Importing this module registers
the models on ``Base.metadata``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base, BigId, utcnow


class LegalDocumentRow(Base):
    """One document of the register. Dates are ISO strings ("" when not known).

    ``origin`` is "bundled" (from ``knowledge/register``) or "admin" (added or changed by an
    admin); a bundled file never clears what an admin marked (expiry, replacement, caveat).
    """

    __tablename__ = "legal_documents"

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(120))
    issued: Mapped[str] = mapped_column(String(10), default="")
    effective: Mapped[str] = mapped_column(String(10))
    expired: Mapped[str] = mapped_column(String(10), default="")
    replaced_by: Mapped[str] = mapped_column(String(40), default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    caveat: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str] = mapped_column(String(16), default="bundled")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KbReviewItem(Base):
    """An entry that must be checked again, and why; open while ``resolved_at`` is empty.

    ``event`` names what happened ("replaced:12/2026/QH15", "expired:2027-01-01",
    "overdue:2027-06-30"), so the same event never lists an entry twice; ``since`` is the ISO
    date it took effect. The item resolves by itself once the entry no longer cites the
    document, or was reviewed on or after ``since``, or got a later review-by date.
    """

    __tablename__ = "kb_review_items"
    __table_args__ = (
        UniqueConstraint("entry_id", "document_number", "event", name="uq_kb_review_items_event"),
        Index("ix_kb_review_items_open", "resolved_at", "entry_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(80))
    document_number: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(80))
    since: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
