"""The append-only audit log of admin and staff actions.

Only ``record`` writes, and nothing here (or anywhere) updates or deletes a row: the log is
evidence of who did what, so a mistake is corrected by a new row, never by editing an old one.
The migration adds a trigger that refuses UPDATE and DELETE on the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import utcnow
from storage.models.admin import AuditLog

MAX_TARGET = 300


async def record(
    session: AsyncSession,
    actor_hash: str,
    role: str,
    action: str,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> int:
    """Append one row inside the caller's transaction (so it exists only if the action does).

    ``details`` must be JSON-serialisable and must not hold personal data in clear.
    """
    row = AuditLog(
        at=utcnow(),
        actor_hash=actor_hash,
        role=role,
        action=action,
        target=target[:MAX_TARGET],
        details=dict(details or {}),
    )
    session.add(row)
    await session.flush()
    return row.id


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def query(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    actor_prefix: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> Sequence[AuditLog]:
    """Rows oldest first, filtered by time, actor hash prefix and action name."""
    stmt = select(AuditLog).order_by(AuditLog.at, AuditLog.id)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= since)
    if actor_prefix:
        escaped = actor_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditLog.actor_hash.like(escaped + "%", escape="\\"))
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.scalars(stmt)).all()


def as_dict(row: AuditLog) -> dict[str, Any]:
    """A row as JSON-ready data (times in UTC, ISO 8601)."""
    return {
        "id": row.id,
        "at": aware(row.at).isoformat(),
        "actor": row.actor_hash,
        "role": row.role,
        "action": row.action,
        "target": row.target,
        "details": row.details,
    }
