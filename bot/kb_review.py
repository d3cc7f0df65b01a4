"""Keeping the knowledge base true: sync the register, list entries to review, alert admins.

``sweep`` runs at start, daily, and after every change an admin makes to the register (chat or
CLI) or to the base (import): it recomputes the review needs from the entries, the register and
today's date, stores them (``storage.repositories.legal``) and queues one alert per event for
each admin who asked for alerts. The outbox's unique key makes a second alert impossible even
when two processes sweep at once.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.outbox_payload import replies_to_payload
from bot.messages import Reply
from handlers import texts_review as t
from knowledge import register as register_file
from knowledge.entry import Entry
from knowledge.review import EXPIRED, OVERDUE, REPLACED, due_reviews
from storage.models.register import KbReviewItem
from storage.repositories import kb as kb_repo
from storage.repositories import legal, outbox, roles

log = logging.getLogger(__name__)
MAX_NAMED = 10
SWEEP_INTERVAL_SECONDS = 6 * 3600
"""Expiry dates are days; a few sweeps a day notice a passed date on the day."""
REVIEW_AGAIN_DAYS = 182
"""Default time until the next review of an entry an admin just checked (WRITING.md: six months)."""


@dataclass(frozen=True, slots=True)
class SweepResult:
    opened: int
    resolved: int
    alerts: int
    open_total: int


def dmy(iso: str) -> str:
    """ "2026-07-01" as "01/07/2026" (unchanged if it is not an ISO date)."""
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


async def sync_bundled(session: AsyncSession, directory: Path) -> int:
    """Load the bundled register files into the database (admin markings are kept)."""
    import asyncio

    if not await asyncio.to_thread(directory.is_dir):
        return 0
    reg = await asyncio.to_thread(register_file.load_dir, directory)
    return await legal.sync_documents(session, list(reg.documents.values()))


async def sweep(session: AsyncSession, today: date) -> SweepResult:
    """Recompute the review list and queue alerts for what is new (inside the caller's
    transaction)."""
    reg = await legal.register(session)
    entries = await kb_repo.all_entries(session)
    change = await legal.sync_review(session, due_reviews(entries, reg, today))
    alerts = await _alert(session, change.opened) if change.opened else 0
    total = len(await legal.open_items(session))
    if change.opened or change.resolved:
        log.info(
            "review list: %d opened, %d resolved, %d open, %d alerts queued",
            len(change.opened),
            change.resolved,
            total,
            alerts,
        )
    return SweepResult(len(change.opened), change.resolved, alerts, total)


async def mark_reviewed(
    session: AsyncSession,
    entry_id: str,
    today: date,
    *,
    review_by: date | None = None,
    actor_hash: str,
) -> Entry | None:
    """An admin checked the entry today: ``reviewed`` is today, ``review_by`` the given date (by
    default ``REVIEW_AGAIN_DAYS`` later); kept in the entry's history, the index rebuilt and the
    review list recomputed. None when there is no such entry."""
    from dataclasses import replace

    from storage.repositories import kb_admin

    before = await kb_admin.get(session, entry_id.strip().lower(), for_update=True)
    if before is None:
        return None
    due = review_by or today + timedelta(days=REVIEW_AGAIN_DAYS)
    after = replace(before, reviewed=today.isoformat(), review_by=due.isoformat())
    await kb_admin.write(session, before, after, actor_hash=actor_hash, action="kb.reviewed")
    await kb_repo.bump_revision(session)
    await sweep(session, today)
    return after


def _digest(items: list[KbReviewItem]) -> str:
    joined = "|".join(sorted(i.entry_id for i in items))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _alert_text(reg: register_file.Register, event: str, items: list[KbReviewItem]) -> str:
    first = items[0]
    ids = [i.entry_id for i in items]
    named = ", ".join(ids[:MAX_NAMED]) + (" …" if len(ids) > MAX_NAMED else "")
    if first.reason == OVERDUE:
        return t.ALERT_OVERDUE.format(count=len(ids), since=dmy(first.since), entries=named)
    document = reg.get(first.document_number)
    title = document.title if document else ""
    template = t.ALERT_REPLACED if first.reason == REPLACED else t.ALERT_EXPIRED
    return template.format(
        number=first.document_number,
        title=title,
        by=event.partition(":")[2],
        since=dmy(first.since),
        count=len(ids),
        entries=named,
    )


async def _alert(session: AsyncSession, opened: tuple[KbReviewItem, ...]) -> int:
    """One message per event (a document replaced, expired; a review-by date passed) and admin."""
    groups: dict[tuple[str, str], list[KbReviewItem]] = defaultdict(list)
    for item in opened:
        groups[(item.document_number, item.event)].append(item)
    admins = [g for g in await roles.alert_recipients(session, None) if g.role == roles.ADMIN]
    if not admins:
        return 0
    reg = await legal.register(session)
    queued = 0
    for (number, event), items in groups.items():
        assert items[0].reason in (REPLACED, EXPIRED, OVERDUE)
        payload = replies_to_payload([Reply(_alert_text(reg, event, items))])
        for admin in admins:
            # A document's event alerts once; overdue entries once per set of entries.
            key = f"kbreview:{number or _digest(items)}:{event}:{admin.user_hash}"
            if await outbox.enqueue(
                session,
                dedupe_key=key,
                channel=admin.channel,
                chat_id=admin.user_id,
                payload=payload,
            ):
                queued += 1
    return queued
