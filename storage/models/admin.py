"""Tables of knowledge-base administration: entry history, pending imports, inbox statuses, audit.

Kept apart from ``storage.models`` so that administration can evolve without touching the core
schema; the tables are created by migration 0007. Importing this module registers the models
on ``Base.metadata``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base, BigId, utcnow


class KbHistory(Base):
    """One change of one entry: who, when, what it was before and after (None: absent).

    ``batch`` ties together the rows of one import, so that the whole import can be undone;
    ``before`` of the newest row is what a one-step rollback restores.
    """

    __tablename__ = "kb_history"
    __table_args__ = (Index("ix_kb_history_entry", "entry_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_hash: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    batch: Mapped[str | None] = mapped_column(String(32), default=None, index=True)


class PendingImport(Base):
    """A validated file waiting for the admin's confirmation (preview and apply are two updates).

    ``entries`` holds the parsed entries, so the confirmed apply never parses again; the row is
    refused after ``expires_at`` and deleted once applied.
    """

    __tablename__ = "kb_pending_imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    actor_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    fmt: Mapped[str] = mapped_column(String(8))
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class InboxStatus(Base):
    """What an admin did with an unanswered question, keyed by its normalised text.

    One row per normalised question (``key``), written for every member of a group, so that the
    decision survives the group's representative changing as new questions arrive.
    """

    __tablename__ = "inbox_status"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="new")
    actor_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)


class AuditLog(Base):
    """An append-only record of admin and staff actions.

    No code updates or deletes these rows; on PostgreSQL (and SQLite) a trigger created by the
    migration refuses UPDATE and DELETE outright.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_at", "actor_hash", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditPurge(Base):
    """While the retention purge runs it holds a row here; only then may old audit rows go.

    The triggers on ``audit_log`` refuse every UPDATE, and every DELETE unless this table has a
    row: a mistaken delete anywhere else still fails.
    """

    __tablename__ = "audit_purge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
