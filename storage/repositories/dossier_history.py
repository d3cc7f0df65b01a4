"""What ingest needs to know about dossiers' recorded histories to check new events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DossierEvent

#: A status change seen only in a snapshot (``bot.domain.ingest``) is recorded with the time it was
#: received, not a time of its own, so it does not order later events; every other recorded
#: event (sent by the one-stop system, written by the demo) does.
SNAPSHOT_PREFIX = "snapshot:"


async def last_event_times(
    session: AsyncSession, dossier_ids: Sequence[int]
) -> dict[int, datetime]:
    """The time of each dossier's latest event with a time of its own (not a snapshot's)."""
    if not dossier_ids:
        return {}
    stmt = (
        select(DossierEvent.dossier_id, func.max(DossierEvent.at))
        .where(
            DossierEvent.dossier_id.in_(set(dossier_ids)),
            not_(DossierEvent.source_id.startswith(SNAPSHOT_PREFIX, autoescape=True)),
        )
        .group_by(DossierEvent.dossier_id)
    )
    return {dossier_id: at for dossier_id, at in await session.execute(stmt) if at is not None}


async def recorded_source_ids(session: AsyncSession, source_ids: Sequence[str]) -> set[str]:
    """Which of these event source ids are already recorded (redeliveries)."""
    found: set[str] = set()
    unique = sorted(set(source_ids))
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        stmt = select(DossierEvent.source_id).where(DossierEvent.source_id.in_(chunk))
        found.update(await session.scalars(stmt))
    return found
