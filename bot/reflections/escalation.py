"""Escalating overdue reflections to the parent agency's staff.

A periodic job, like the outbox sender, rather than a check when staff list their reflections:
an agency whose staff never open the list is exactly the one whose superiors must hear of it.
Every process runs it every ``REFLECTION_CHECK_MINUTES``; rows are claimed with
``FOR UPDATE SKIP LOCKED`` and marked ``escalated_at`` in the same transaction, so one overdue
reflection is escalated once however many processes run (the outbox dedupe key also makes a
second message impossible). A reflection is overdue from the day after its due date (Vietnam
time). It is escalated to the staff granted at the parent of the agency that must answer (at
the root of the tree, to the admins), each step is a reflection event and an audit row, and
a forward clears the mark so that the new agency's superiors are told in their turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.outbox_payload import replies_to_payload
from bot.domain.reflections.rules import reference
from bot.messages import Reply
from handlers import texts_reflections as t
from storage.models import Agency, utcnow
from storage.repositories import audit, outbox
from storage.repositories import reflections as repo

log = logging.getLogger(__name__)
SYSTEM = "system"


async def escalate_overdue(session: AsyncSession, today: date) -> int:
    """Escalate every overdue, not yet escalated reflection; returns how many."""
    count = 0
    for reflection in await repo.overdue_unescalated(session, today):
        agency = await session.get(Agency, reflection.agency_id)
        if agency is None:  # pragma: no cover (a foreign key)
            continue
        parent = await session.get(Agency, agency.parent_id) if agency.parent_id else None
        recipients = await repo.staff_of(session, parent.id) if parent else []
        if not recipients:
            recipients = await repo.admins(session)
        ref = reference(reflection.id)
        text = t.ESCALATED.format(
            ref=ref, agency=agency.name, due=reflection.due_date.strftime("%d/%m/%Y")
        )
        for grant in recipients:
            await outbox.enqueue(
                session,
                dedupe_key=f"pakn:{reflection.id}:esc:{agency.id}:{grant.user_hash}",
                channel=grant.channel,
                chat_id=grant.user_id,
                payload=replies_to_payload([Reply(text)]),
            )
        reflection.escalated_at = utcnow()
        await repo.add_event(
            session,
            reflection.id,
            "escalated",
            SYSTEM,
            from_agency_id=agency.id,
            to_agency_id=parent.id if parent else None,
            note=f"{len(recipients)} recipient(s)",
        )
        await audit.record(
            session,
            SYSTEM,
            SYSTEM,
            "reflection.escalate",
            ref,
            {
                "agency": agency.id,
                "to": parent.id if parent else None,
                "due": str(reflection.due_date),
            },
        )
        count += 1
    return count


class EscalationWorker:
    """Runs ``escalate_overdue`` every ``interval`` seconds (a background task per process)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        today: Callable[[], date],
        *,
        interval: float,
    ) -> None:
        self._sessions = sessions
        self._today = today
        self._interval = interval

    async def run_once(self) -> int:
        async with self._sessions() as session, session.begin():
            escalated = await escalate_overdue(session, self._today())
        if escalated:
            log.info("reflections: %d overdue reflection(s) escalated", escalated)
        return escalated

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.warning("reflection escalation failed; will try again", exc_info=True)
            await asyncio.sleep(self._interval)
