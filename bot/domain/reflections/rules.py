"""The rules a reflection follows: its reply deadline in working days, the daily limit per
person, the largest photo. Built from the settings; handlers read them from ``Services``.

The default of 15 working days follows the PAKN deadlines used by Decision 766/QĐ-TTg's
satisfaction component (answer within 15 working days); the handling of reflections on
administrative regulations is governed by Nghị định 20/2008/NĐ-CP (amended by Nghị định
20/2013/NĐ-CP and 92/2017/NĐ-CP). An operator sets the city's own figure with
``REFLECTION_ANSWER_WORKDAYS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.dossiers.workdays import WorkCalendar

DEFAULT_ANSWER_WORKDAYS = 15
DEFAULT_DAILY_LIMIT = 3
DEFAULT_MAX_PHOTO_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReflectionRules:
    answer_workdays: int = DEFAULT_ANSWER_WORKDAYS
    daily_limit: int = DEFAULT_DAILY_LIMIT
    max_photo_bytes: int = DEFAULT_MAX_PHOTO_BYTES

    def due_date(self, calendar: WorkCalendar, received: date) -> date:
        """The last day of the answer period: the n-th working day after the day received."""
        return calendar.add_workdays(received, self.answer_workdays)


def is_overdue(due: date, today: date) -> bool:
    """Overdue from the day after the due date (the due date itself is still in time)."""
    return today > due


def reference(reflection_id: int) -> str:
    """The number a citizen quotes: "PA-000123"."""
    return f"PA-{reflection_id:06d}"
