"""Decision 766/QĐ-TTg on-time rules (item 2.1), as pure functions on plain dataclasses.

The rules are written down, with their legal basis, in ``docs/timeliness.md``; each has a test
named after it in ``tests/test_timeliness_rules.py``. In short:

- a dossier is on time if its end of processing (``NgayKetThucXuLy``) is on or before its
  appointment date (``NgayHenTra``); dates are compared, not datetimes;
- time waiting for the citizen's supplement is subtracted: the paused working days move the
  appointment date later by as many working days;
- more than one supplement request makes the dossier late, whatever the dates;
- without an appointment date, it is on time if elapsed working days minus paused working days
  do not exceed the procedure's legal limit;
- an unfinished dossier is judged at the end of the period (``as_of``): within its limit or
  already late.

**A verdict at a date depends only on what had happened by that date.** Every input is read
as of the date judged at: an end of processing after ``as_of`` has not happened yet, a pause
is counted only up to ``as_of``, and a supplement request counts only from the day it was made
(``Pause.requested``). So a report for September reads the same whatever happens in October.
Two consequences:

- while a pause is open at ``as_of`` the clock stands still at the day the supplement was
  asked for: the dossier is judged as it stood that day, so its verdict cannot flip because a
  weekend or a holiday passed while the citizen had the file;
- a supplement count known without dates (``supplement_requests`` above the number of dated
  pauses, as a snapshot import may give it) is known to have happened by the end of
  processing, so those requests count from the end date on, never before.

A re-scheduled appointment (Mẫu 04, *Phiếu xin lỗi và hẹn lại ngày trả kết quả*) does **not**
move the date the index judges against. The 766 rule compares with ``NgayHenTra`` (§2.3), and
the model keeps the original appointment and the re-scheduled one as separate fields
(``ngay_hen_tra`` and ``ngay_hen_tra_moi``, §7): the apology is issued precisely because the
dossier is going to be late, so honouring the new date would erase every apologised-for late
dossier from the index. The re-scheduled date is still what the citizen is told to expect;
``promised_date`` returns it for the lookup flow.

A withdrawal after acceptance ends processing like any other end state and is judged by its date
(§2.3); provincial report columns ([TH]) count withdrawn dossiers as on time regardless, which
this module does not follow because the 766 formula text does not say so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from bot.domain.dossiers.status import DossierStatus, ends_processing, is_received
from bot.domain.dossiers.workdays import WorkCalendar


class Timeliness(StrEnum):
    """How a dossier stands against its deadline; derived, never stored (domain.md §7)."""

    TRUOC_HAN = "truoc_han"
    DUNG_HAN = "dung_han"
    QUA_HAN = "qua_han"
    DANG_TRONG_HAN = "dang_trong_han"
    DANG_QUA_HAN = "dang_qua_han"

    @property
    def label(self) -> str:
        """The Vietnamese name used in reports and replies."""
        return _LABELS[self]

    @property
    def on_time(self) -> bool:
        """Whether the 766 on-time rate counts this in its numerator."""
        return self in ON_TIME

    @property
    def finished(self) -> bool:
        """Whether this judges a dossier whose processing had ended."""
        return self in (Timeliness.TRUOC_HAN, Timeliness.DUNG_HAN, Timeliness.QUA_HAN)


_LABELS: dict[Timeliness, str] = {
    Timeliness.TRUOC_HAN: "Trước hạn",
    Timeliness.DUNG_HAN: "Đúng hạn",
    Timeliness.QUA_HAN: "Quá hạn",
    Timeliness.DANG_TRONG_HAN: "Đang trong hạn",
    Timeliness.DANG_QUA_HAN: "Đang quá hạn",
}

ON_TIME = frozenset({Timeliness.TRUOC_HAN, Timeliness.DUNG_HAN, Timeliness.DANG_TRONG_HAN})


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True, kw_only=True)
class DossierTimes:
    """What the on-time rule needs to know about one dossier.

    - ``received``: the day the agency accepted it (``NgayTiepNhan``);
    - ``due``: the original appointment date (``NgayHenTra``), or ``None`` if there is none;
    - ``rescheduled_due``: the new appointment after a Mẫu 04 apology; not used by the index;
    - ``finished``: end of processing (``NgayKetThucXuLy``, see ``status.end_of_processing``);
    - ``status``: the current status;
    - ``supplement_requests``: how many times a supplement was asked for (``so_lan_bo_sung``);
      each dated pause is one request, so this matters only when it exceeds their number;
    - ``pauses``: (requested, resumed) intervals of waiting for the citizen, ``resumed`` is
      ``None`` while still waiting; each is one supplement request, made on ``requested``;
    - ``legal_days``: the procedure's legal limit in working days, used when ``due`` is missing.

    Datetimes are accepted and reduced to their date. Inconsistent data (a finished date on a
    dossier still in progress, a pause that resumes before it starts) raises ``ValueError`` so
    that ingest can reject it with a reason instead of computing nonsense.
    """

    received: date
    due: date | None = None
    rescheduled_due: date | None = None
    finished: date | None = None
    status: DossierStatus
    supplement_requests: int = 0
    pauses: tuple[tuple[date, date | None], ...] = ()
    legal_days: int | None = None

    def __post_init__(self) -> None:
        def norm(value: date | None) -> date | None:
            return None if value is None else _as_date(value)

        object.__setattr__(self, "received", _as_date(self.received))
        object.__setattr__(self, "due", norm(self.due))
        object.__setattr__(self, "rescheduled_due", norm(self.rescheduled_due))
        object.__setattr__(self, "finished", norm(self.finished))
        object.__setattr__(self, "status", DossierStatus(self.status))
        pauses = tuple((_as_date(start), norm(end)) for start, end in self.pauses)
        object.__setattr__(self, "pauses", pauses)
        if self.due is not None and self.due < self.received:
            raise ValueError("the appointment date is before the day the dossier was received")
        if self.finished is not None and self.finished < self.received:
            raise ValueError("processing ended before the dossier was received")
        if self.finished is not None and not ends_processing(self.status):
            raise ValueError(f"status {self.status.name} has not ended processing, yet 'finished'")
        if self.finished is None and is_received(self.status) and ends_processing(self.status):
            raise ValueError(f"status {self.status.name} ends processing: 'finished' is required")
        if self.supplement_requests < 0:
            raise ValueError("supplement_requests must not be negative")
        if self.legal_days is not None and self.legal_days < 0:
            raise ValueError("legal_days must not be negative")
        for start, end in pauses:
            if end is not None and end < start:
                raise ValueError(f"a pause resumes ({end}) before it starts ({start})")


def promised_date(d: DossierTimes) -> date | None:
    """The appointment the citizen was last given: the re-scheduled one if any, else the
    original. For display in the lookup flow; the index uses ``effective_due`` instead."""
    return d.rescheduled_due if d.rescheduled_due is not None else d.due


def _end_at(d: DossierTimes, as_of: date) -> date | None:
    """The end of processing if it had happened by ``as_of``; later ends do not count yet."""
    return d.finished if d.finished is not None and d.finished <= as_of else None


def paused_workdays(d: DossierTimes, calendar: WorkCalendar, until: date) -> int:
    """Working days spent waiting for the citizen up to ``until``, overlaps counted once.

    A pause (requested, resumed) covers the working days in (requested, resumed], as
    ``workdays_between`` counts them, so a request on Monday answered on Wednesday pauses two
    working days, the plain difference of the 766 formula. A pause still open counts to
    ``until``.
    """
    spans = sorted(
        (start, min(end if end is not None else until, until))
        for start, end in d.pauses
        if start < until
    )
    total = 0
    current: tuple[date, date] | None = None
    for start, end in spans:
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            total += calendar.workdays_between(*current)
        current = (start, end)
    if current is not None:
        total += calendar.workdays_between(*current)
    return total


def effective_due(d: DossierTimes, calendar: WorkCalendar, as_of: date) -> date | None:
    """The appointment date the index judges against at ``as_of``: the original appointment
    (or, without one, ``received`` plus the legal limit) moved later by the working days paused
    for supplements. ``None`` when there is neither an appointment nor a legal limit."""
    as_of = _as_date(as_of)
    if d.due is not None:
        base = d.due
    elif d.legal_days is not None:
        base = calendar.add_workdays(d.received, d.legal_days)
    else:
        return None
    until = _end_at(d, as_of) or as_of
    return calendar.add_workdays(base, paused_workdays(d, calendar, until))


def requests_by(d: DossierTimes, until: date) -> int:
    """Supplement requests made by ``until``: the dated ones (a pause requested on or before
    ``until``), plus, once processing has ended by ``until``, those known only by their count
    (``supplement_requests`` beyond the dated pauses), which all happened by the end."""
    until = _as_date(until)
    dated = sum(1 for start, _ in d.pauses if start <= until)
    undated = max(0, d.supplement_requests - len(d.pauses))
    ended = d.finished is not None and d.finished <= until
    return dated + (undated if ended else 0)


def clock_date(d: DossierTimes, until: date) -> date:
    """The day the dossier's clock stood at on ``until``: ``until`` itself, or, while a pause
    is open then (requested before ``until``, not yet resumed by it), the day that run of
    pauses began, since waiting for the citizen uses none of the agency's time."""
    until = _as_date(until)
    clock = until
    # Pauses still open at ``until``, merged with the pauses that overlap them back in time.
    spans = sorted((s, e) for s, e in d.pauses if s < until)
    open_start: date | None = None
    for start, end in reversed(spans):
        covers = end is None or end > until
        if open_start is None:
            if covers:
                open_start = start
            continue
        if end is None or end >= open_start:
            open_start = min(open_start, start)
    if open_start is not None:
        clock = open_start
    return clock


def timeliness(d: DossierTimes, calendar: WorkCalendar, as_of: date) -> Timeliness | None:
    """Judge one dossier at ``as_of`` (e.g. the last day of the reporting period).

    Returns ``None`` when the dossier has nothing to judge at ``as_of``: never received (status
    1 or 3), received after ``as_of``, or with neither an appointment date nor a legal limit. A
    dossier that ended after ``as_of`` is judged as unfinished, as it was on that day.
    """
    as_of = _as_date(as_of)
    if not is_received(d.status) or d.received > as_of:
        return None
    end = _end_at(d, as_of)
    until = end or as_of
    if requests_by(d, until) > 1:
        return Timeliness.QUA_HAN if end is not None else Timeliness.DANG_QUA_HAN
    clock = clock_date(d, until)
    if d.due is not None:
        due = calendar.add_workdays(d.due, paused_workdays(d, calendar, clock))
        if end is None:
            return Timeliness.DANG_TRONG_HAN if clock <= due else Timeliness.DANG_QUA_HAN
        if clock < due:
            return Timeliness.TRUOC_HAN
        return Timeliness.DUNG_HAN if clock == due else Timeliness.QUA_HAN
    if d.legal_days is None:
        return None
    used = calendar.workdays_between(d.received, clock) - paused_workdays(d, calendar, clock)
    if end is None:
        return Timeliness.DANG_TRONG_HAN if used <= d.legal_days else Timeliness.DANG_QUA_HAN
    if used < d.legal_days:
        return Timeliness.TRUOC_HAN
    return Timeliness.DUNG_HAN if used == d.legal_days else Timeliness.QUA_HAN


@dataclass(frozen=True, slots=True)
class TimelinessSummary:
    """Counts behind the on-time rate, for reports that show the columns and not just the rate.

    ``unjudged`` counts dossiers in the period that could not be judged (no appointment date
    and no legal limit); they are left out of the rate rather than guessed, and reported so that
    staff can fix the data.
    """

    counts: Mapping[Timeliness, int] = field(default_factory=dict)
    unjudged: int = 0

    @property
    def total(self) -> int:
        """The denominator: dossiers received or processed in the period that were judged."""
        return sum(self.counts.values())

    @property
    def on_time(self) -> int:
        """The numerator: finished early or on time, plus unfinished within the limit."""
        return sum(n for t, n in self.counts.items() if t.on_time)

    @property
    def rate(self) -> float | None:
        """``on_time / total`` between 0 and 1, or ``None`` with nothing to judge."""
        return self.on_time / self.total if self.total else None


def summarise(
    items: Iterable[DossierTimes],
    calendar: WorkCalendar,
    period_end: date,
    *,
    period_start: date | None = None,
) -> TimelinessSummary:
    """Judge every dossier received or processed in the period.

    The period's dossiers are those received by ``period_end`` and, when ``period_start`` is
    given, not already ended before it (domain.md §2.3: "received or processed in the period");
    dossiers never received (status 1 or 3) are not counted. Unfinished ones are judged at
    ``period_end``.
    """
    period_end = _as_date(period_end)
    start = None if period_start is None else _as_date(period_start)
    counts: Counter[Timeliness] = Counter()
    unjudged = 0
    for d in items:
        if not is_received(d.status) or d.received > period_end:
            continue
        if start is not None and d.finished is not None and d.finished < start:
            continue
        verdict = timeliness(d, calendar, period_end)
        if verdict is None:
            unjudged += 1
        else:
            counts[verdict] += 1
    return TimelinessSummary(counts=MappingProxyType(dict(counts)), unjudged=unjudged)


def on_time_rate(
    items: Iterable[DossierTimes],
    calendar: WorkCalendar,
    period_end: date,
    *,
    period_start: date | None = None,
) -> float | None:
    """The Decision 766 on-time rate (item 2.1) between 0 and 1, ``None`` with no dossiers.

    Numerator: finished early or on time, plus unfinished and within the limit at
    ``period_end``; denominator: every judged dossier received or processed in the period
    (domain.md §7). Points for group 2 are ``rate × 20`` where no threshold applies.
    """
    return summarise(items, calendar, period_end, period_start=period_start).rate
