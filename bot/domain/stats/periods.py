"""Reporting periods for /thongke, /baocao and ``motcua stats``: parsed from what staff type.

Staff type on phones, often without diacritics, so every form is accepted with or without them
("tháng trước" = "thang truoc"). The accepted forms:

- ``tuần`` / ``tháng`` / ``quý`` / ``năm`` (also followed by "này"): from the first day of the
  current week (Monday), month, quarter or year to today;
- ``tuần trước`` / ``tháng trước`` / ``quý trước`` / ``năm trước``: the whole previous one;
- ``hôm nay``;
- ``tháng 3/2026`` (or ``3/2026``, ``T3/2026``), ``quý 2/2026`` (or ``Q2/2026``, ``quý II/2026``),
  ``2026`` (or ``năm 2026``); without the year, ``tháng 3`` and ``quý 2`` are the latest ones
  that have begun;
- ``từ 01/01/2026 đến 31/03/2026`` and ``01/01/2026-31/03/2026`` (also ``đến nay``).

A period never ends after today: statistics judge unfinished dossiers at the period's end
(Decision 766), and judging them at a future date would count as "still within the limit"
dossiers that nobody can know about yet. So the current month ends today, and a range typed
into the future is cut at today; a period that starts after today is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.domain.vietnam_time import VN_TZ
from knowledge.normalize import fold

DEFAULT = "tháng"
#: The longest period accepted: the chart draws one point per month, and a decade of months
#: would neither read well on a phone nor be a question anyone asks of a chat assistant.
MAX_DAYS = 5 * 366
EARLIEST_YEAR = 2000

HELP = (
    "Bạn có thể gõ: tuần, tháng, quý, năm; tuần trước, tháng trước, quý trước, năm trước; "
    "tháng 3/2026; quý 2/2026; 2026; hoặc từ 01/01/2026 đến 31/03/2026."
)


class PeriodError(ValueError):
    """A period that cannot be used; ``str(error)`` is a Vietnamese sentence for the user."""


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of calendar days (Vietnam time) and its Vietnamese name.

    ``label`` reads naturally after "Thống kê" ("tháng 3/2026", "từ 01/01/2026 đến 31/03/2026").
    """

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period must not end before it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def dates(self) -> str:
        """The range as dates, for a report header: "01/03/2026 – 31/03/2026"."""
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    def bounds(self) -> tuple[datetime, datetime]:
        """``[first instant, instant after the last day)`` in UTC, for timestamp columns.

        Timestamps are stored in UTC (``storage.models.utcnow``); a day of the period is a day
        in Vietnam, so 00:00 in Hà Nội time is 17:00 UTC the day before. Returned in UTC
        because SQLite compares timestamps as text written without their zone.
        """
        first = datetime.combine(self.start, time.min, VN_TZ).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time.min, VN_TZ).astimezone(UTC)
        return first, after

    def months(self) -> tuple[Period, ...]:
        """The calendar months the period touches, each cut to the period: one chart point
        each. A period of 10 to 25 March gives one month, 10 to 25 March."""
        out: list[Period] = []
        cursor = self.start
        while cursor <= self.end:
            last = min(_month_end(cursor.year, cursor.month), self.end)
            out.append(Period(cursor, last, f"T{cursor.month}/{cursor.year}"))
            cursor = last + timedelta(days=1)
        return tuple(out)


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _dmy(day: date) -> str:
    return f"{day:%d/%m/%Y}"


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_SEP = r"\s*(?:-|–|—|den|toi|->|\.\.)\s*"
_DATE = r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})"
_RANGE = re.compile(rf"(?:tu\s*)?{_DATE}{_SEP}(?:{_DATE}|(nay|hom nay))")
_ISO_RANGE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\s*(?:\.\.|den|->|/)\s*(\d{4})-(\d{2})-(\d{2})")
_OF_YEAR = r"(?:\s*(?:/|-|\s|nam)\s*(\d{4}))?"
_MONTH = re.compile(rf"(?:thang|t)\s*(\d{{1,2}}){_OF_YEAR}|(\d{{1,2}})\s*/\s*(\d{{4}})")
_QUARTER = re.compile(rf"(?:quy|q)\s*(\d|iv|iii|ii|i){_OF_YEAR}")
_YEAR = re.compile(r"(?:nam\s*)?(\d{4})")


def _normal(text: str) -> str:
    """Lower case, no diacritics ("đ" becomes "d"), single spaces, no trailing punctuation."""
    folded = fold(text.strip())
    folded = re.sub(r"\s+", " ", folded)
    return folded.strip(" .!?")


def _day(d: str, m: str, y: str, typed: str) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise PeriodError(f"Ngày «{typed}» không có thật. {HELP}") from None


def _year(typed: str | None, today: date, first_month: int) -> int:
    """The year typed, or the latest year in which that month has begun ("tháng 12" typed in
    March means last December)."""
    if typed:
        return int(typed)
    month = min(max(first_month, 1), 12)
    return today.year if date(today.year, month, 1) <= today else today.year - 1


def _finish(start: date, end: date, label: str, today: date) -> Period:
    """Check the bounds and cut the end at today (see the module docstring)."""
    if start.year < EARLIEST_YEAR:
        raise PeriodError(f"Chỉ có số liệu từ năm {EARLIEST_YEAR}.")
    if start > today:
        raise PeriodError("Khoảng thời gian này chưa bắt đầu, chưa có số liệu.")
    if end < start:
        raise PeriodError("Ngày kết thúc phải sau ngày bắt đầu.")
    end = min(end, today)
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError("Khoảng thời gian dài nhất là 5 năm; bạn vui lòng chọn ngắn hơn.")
    return Period(start, end, label)


def parse_period(text: str | None, today: date) -> Period:
    """The period named by ``text`` (``None`` or empty: this month), relative to ``today``.

    Raises ``PeriodError`` with a Vietnamese message listing the accepted forms.
    """
    raw = (text or "").strip() or DEFAULT
    s = _normal(raw)
    if s.split(" ", 1)[0] in _RELATIVE:  # "tháng này" is "tháng"
        s = re.sub(r" (nay|hien tai)$", "", s)
    if s in _RELATIVE:
        start, end, label = _RELATIVE[s](today)
        return _finish(start, end, label, today)
    if m := _RANGE.fullmatch(s):
        start = _day(m[1], m[2], m[3], raw)
        end = today if m[7] else _day(m[4], m[5], m[6], raw)
        return _finish(start, end, f"từ {_dmy(start)} đến {_dmy(min(end, today))}", today)
    if m := _ISO_RANGE.fullmatch(s):
        start = _day(m[3], m[2], m[1], raw)
        end = _day(m[6], m[5], m[4], raw)
        return _finish(start, end, f"từ {_dmy(start)} đến {_dmy(min(end, today))}", today)
    if m := _MONTH.fullmatch(s):
        if m[1]:
            month, year = int(m[1]), _year(m[2], today, int(m[1]))
        else:
            month, year = int(m[3]), int(m[4])
        if not 1 <= month <= 12:
            raise PeriodError(f"Tháng phải từ 1 đến 12. {HELP}")
        start = date(year, month, 1)
        return _finish(start, _month_end(year, month), f"tháng {month}/{year}", today)
    if m := _QUARTER.fullmatch(s):
        q = _ROMAN.get(m[1]) or int(m[1])
        if not 1 <= q <= 4:
            raise PeriodError(f"Quý phải từ 1 đến 4. {HELP}")
        year = _year(m[2], today, 3 * q - 2)
        start = date(year, 3 * q - 2, 1)
        return _finish(start, _month_end(year, 3 * q), f"quý {q}/{year}", today)
    if m := _YEAR.fullmatch(s):
        year = int(m[1])
        return _finish(date(year, 1, 1), date(year, 12, 31), f"năm {year}", today)
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    raise PeriodError(f"Chưa hiểu khoảng thời gian «{shown}». {HELP}")


def _this_week(today: date) -> tuple[date, date, str]:
    return today - timedelta(days=today.weekday()), today, "tuần này"


def _last_week(today: date) -> tuple[date, date, str]:
    monday = today - timedelta(days=today.weekday() + 7)
    sunday = monday + timedelta(days=6)
    return monday, sunday, f"tuần trước ({monday:%d/%m} – {sunday:%d/%m/%Y})"


def _this_month(today: date) -> tuple[date, date, str]:
    return today.replace(day=1), today, f"tháng {today.month}/{today.year}"


def _last_month(today: date) -> tuple[date, date, str]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end, f"tháng {end.month}/{end.year}"


def _this_quarter(today: date) -> tuple[date, date, str]:
    start = _quarter_start(today)
    return start, today, f"quý {(start.month - 1) // 3 + 1}/{today.year}"


def _last_quarter(today: date) -> tuple[date, date, str]:
    end = _quarter_start(today) - timedelta(days=1)
    start = _quarter_start(end)
    return start, end, f"quý {(start.month - 1) // 3 + 1}/{start.year}"


def _this_year(today: date) -> tuple[date, date, str]:
    return date(today.year, 1, 1), today, f"năm {today.year}"


def _last_year(today: date) -> tuple[date, date, str]:
    year = today.year - 1
    return date(year, 1, 1), date(year, 12, 31), f"năm {year}"


def _today(today: date) -> tuple[date, date, str]:
    return today, today, f"hôm nay ({_dmy(today)})"


_RELATIVE = {
    "tuan": _this_week,
    "tuan truoc": _last_week,
    "thang": _this_month,
    "thang truoc": _last_month,
    "quy": _this_quarter,
    "quy truoc": _last_quarter,
    "nam": _this_year,
    "nam truoc": _last_year,
    "hom nay": _today,
}
