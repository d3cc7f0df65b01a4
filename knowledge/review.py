"""Which entries must be checked again, and why: derived from the entries, the register and a day.

An entry needs review when a document it cites is no longer in force (replaced, or its expiry
date has come) and the entry was not reviewed since, or when its own review-by date has passed.
Each need names the event behind it, so the stored review list (``storage.repositories.legal``)
lists an entry once per event and alerts admins once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from knowledge.entry import Entry
from knowledge.register import Register

REPLACED, EXPIRED, OVERDUE = "replaced", "expired", "overdue"


@dataclass(frozen=True, slots=True)
class ReviewNeed:
    """One reason to review one entry."""

    entry_id: str
    document_number: str
    reason: str
    event: str
    since: str
    """ISO date the event took effect: an entry reviewed on or after it is up to date."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.entry_id, self.document_number, self.event)


def document_event(register: Register, number: str, today: date) -> tuple[str, str, str] | None:
    """(reason, event, since) when the document is no longer in force, else None."""
    document = register.get(number)
    if document is None or document.in_force(today):
        return None
    if document.replaced_by:
        successor = register.get(document.replaced_by)
        since = document.expired or (successor.effective if successor else "") or today.isoformat()
        return REPLACED, f"{REPLACED}:{document.replaced_by}", since
    return EXPIRED, f"{EXPIRED}:{document.expired}", document.expired


def due_reviews(entries: Sequence[Entry], register: Register, today: date) -> list[ReviewNeed]:
    """Every open reason to review an enabled entry, on ``today``."""
    needs: list[ReviewNeed] = []
    iso = today.isoformat()
    for e in entries:
        if not e.enabled:
            continue
        for number in dict.fromkeys(e.legal_refs):
            found = document_event(register, number, today)
            if found is None:
                continue
            reason, event, since = found
            if e.reviewed and e.reviewed >= since:
                continue  # checked after the change: the entry says what holds now
            document = register.get(number)
            assert document is not None
            needs.append(ReviewNeed(e.id, document.number, reason, event, since))
        if e.review_by and e.review_by < iso:
            needs.append(ReviewNeed(e.id, "", OVERDUE, f"{OVERDUE}:{e.review_by}", e.review_by))
    return needs
