"""Reads for the console's audit page (its drill-down list is ``stats.dossier_lines``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.admin import AuditLog


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
