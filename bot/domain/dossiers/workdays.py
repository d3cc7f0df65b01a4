"""The working-day calendar: weekends, public holidays and make-up working days.

Legal time limits of procedures are counted in working days (*ngày làm việc*), and due dates,
the on-time rule and the average processing time all depend on which days those are. They
change every year: Tết follows the lunar calendar, and the Government announces each year which
working days are swapped with a Saturday to make a longer holiday (*hoán đổi ngày làm việc*, the
Saturday then becoming a make-up working day, *làm bù*). So the calendar is data: a bundled
YAML file (``data/holidays.yaml``) that operators can extend or correct with their own files.

Counting convention (used by ``add_workdays`` and ``workdays_between`` alike): a dossier
received on day D has used no working days on D itself; counting starts on the next working
day. So with n working days the due date is the n-th working day *after* D: received on Friday
with 1 working day, due on Monday; received on a Saturday (online), 1 working day, also due on
Monday. ``workdays_between(a, b)`` counts the working days in the half-open interval (a, b], so
that ``workdays_between(d, add_workdays(d, n)) == n`` always holds.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

BUNDLED_CALENDAR = Path(__file__).resolve().parent / "data" / "holidays.yaml"
SATURDAY_SUNDAY = frozenset({5, 6})
MAX_FILE_BYTES = 1024 * 1024
MAX_DAYS = 10_000
MAX_NAME = 200
FIELDS = ("date", "kind", "name", "source")
REQUIRED = ("date", "kind", "name")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DayKind(StrEnum):
    """What a calendar entry makes of its day."""

    HOLIDAY = "holiday"
    WORKDAY = "workday"


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One entry of a calendar file: a day off, or a day worked although it is a weekend."""

    date: date
    kind: DayKind
    name: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a calendar file: where it is, which field, and what."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        field = f" [{self.field}]" if self.field else ""
        return f"{self.where}{field}: {self.message}"


class CalendarFileError(Exception):
    """A calendar file that cannot be used; ``problems`` lists every reason, so that an operator
    can fix them all in one go. Nothing of a file with any problem is used."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _week_prefix(weekend: AbstractSet[int]) -> tuple[int, ...]:
    """``prefix[r]``: non-weekend days among the first r days of a week that starts on Monday."""
    prefix = [0]
    for wd in range(7):
        prefix.append(prefix[-1] + (wd not in weekend))
    return tuple(prefix)


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days are working days: Monday to Friday, minus holidays, plus make-up days.

    If a date is in both sets the make-up working day wins; ``load_calendar`` never builds such
    a calendar, since a later file replaces an earlier entry for the same date. ``names`` maps a
    listed date to its name ("Tết Nguyên đán"), so that a reply can say why a due date moved.
    The sets may be given as any sets; they are stored frozen. Arithmetic is O(log h) in the
    number of exceptions, not O(days), because statistics compute due dates for hundreds of
    thousands of dossiers.
    """

    holidays: AbstractSet[date] = frozenset()
    makeup_workdays: AbstractSet[date] = frozenset()
    weekend: AbstractSet[int] = SATURDAY_SUNDAY
    names: Mapping[date, str] = field(default_factory=dict, compare=False)
    _removed: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _added: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        holidays = frozenset(_as_date(d) for d in self.holidays)
        makeup = frozenset(_as_date(d) for d in self.makeup_workdays)
        weekend = frozenset(self.weekend)
        if not weekend <= set(range(7)) or len(weekend) == 7:
            raise ValueError("weekend must be a proper subset of weekday numbers 0-6")
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "makeup_workdays", makeup)
        object.__setattr__(self, "weekend", weekend)
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))
        # Exceptions to the plain weekly pattern, as sorted ordinals for bisection.
        removed = sorted(
            d.toordinal() for d in holidays if d.weekday() not in weekend and d not in makeup
        )
        added = sorted(d.toordinal() for d in makeup if d.weekday() in weekend)
        object.__setattr__(self, "_removed", tuple(removed))
        object.__setattr__(self, "_added", tuple(added))
        object.__setattr__(self, "_prefix", _week_prefix(weekend))

    @property
    def years(self) -> frozenset[int]:
        """Years with at least one entry: outside them only weekends are days off, so callers
        can warn that the calendar needs the coming year's holidays."""
        return frozenset(d.year for d in self.holidays | self.makeup_workdays)

    def is_workday(self, d: date) -> bool:
        """Whether the one-stop desk works on ``d``."""
        d = _as_date(d)
        if d in self.makeup_workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() not in self.weekend

    def _rank(self, ordinal: int) -> int:
        """Working days in [0001-01-01, ordinal]: a monotone count whose differences are
        working-day distances. Ordinal 1 (0001-01-01) is a Monday, so whole weeks from it
        contribute the same count each."""
        full, rest = divmod(ordinal, 7)
        return (
            full * self._prefix[7]
            + self._prefix[rest]
            - bisect.bisect_right(self._removed, ordinal)
            + bisect.bisect_right(self._added, ordinal)
        )

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: elapsed working time from ``a`` to ``b``; negative if b < a."""
        return self._rank(_as_date(b).toordinal()) - self._rank(_as_date(a).toordinal())

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (the due date of a dossier received on
        ``start`` with n working days); ``start`` itself when n is 0.

        The result of n >= 1 is always a working day, even when ``start`` is not one.
        """
        start = _as_date(start)
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return start
        lo = start.toordinal()
        target = self._rank(lo) + n
        # Find an upper bound, then the first ordinal whose rank reaches the target: rank rises
        # by one exactly on working days, so that ordinal is the n-th working day.
        step = n * 7 // max(1, 7 - len(self.weekend)) + 14
        hi = lo + step
        while self._rank(hi) < target:
            lo, hi = hi, hi + step
            step *= 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._rank(mid) >= target:
                hi = mid
            else:
                lo = mid
        return date.fromordinal(hi)

    def next_workday(self, d: date) -> date:
        """``d`` if it is a working day, otherwise the first working day after it."""
        d = _as_date(d)
        return d if self.is_workday(d) else self.add_workdays(d, 1)

    @classmethod
    def from_days(
        cls, days: Iterable[CalendarDay], *, weekend: AbstractSet[int] = SATURDAY_SUNDAY
    ) -> WorkCalendar:
        """A calendar from file entries; for the same date the last entry wins."""
        by_date: dict[date, CalendarDay] = {}
        for day in days:
            by_date[day.date] = day
        return cls(
            holidays=frozenset(d for d, e in by_date.items() if e.kind is DayKind.HOLIDAY),
            makeup_workdays=frozenset(d for d, e in by_date.items() if e.kind is DayKind.WORKDAY),
            weekend=weekend,
            names={d: e.name for d, e in by_date.items()},
        )


def _as_date(value: date) -> date:
    """Dates, never datetimes: deadlines are judged by calendar day, as provincial reports do."""
    return value.date() if isinstance(value, datetime) else value


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the line of every mapping and key, refuses aliases, and
    leaves dates as text so that a bad date (2026-02-30) is reported with its line instead of
    failing the whole file."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__lines__"] = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
        return mapping


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _day_from_record(rec: dict[str, Any], problems: list[Problem]) -> CalendarDay | None:
    line = rec.pop("__line__", "?")
    lines: dict[str, int] = rec.pop("__lines__", {})

    def where(key: str) -> str:
        return f"line {lines.get(key, line)}"

    before = len(problems)
    for key in rec:
        if key not in FIELDS:
            problems.append(Problem(where(str(key)), str(key), "unknown field"))
    for key in FIELDS:
        if isinstance(rec.get(key), dict | list):
            problems.append(Problem(where(key), key, "must be a single value, not a list or map"))
            rec.pop(key)
    for key in REQUIRED:
        if rec.get(key) in (None, ""):
            problems.append(Problem(where(key), key, "required field is empty"))
    raw_date, raw_kind = rec.get("date"), rec.get("kind")
    day: date | None = None
    if raw_date not in (None, ""):
        text = str(raw_date).strip()
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError
            day = date.fromisoformat(text)
        except ValueError:
            problems.append(
                Problem(where("date"), "date", f"'{text}' is not a real date in YYYY-MM-DD form")
            )
    kind: DayKind | None = None
    if raw_kind not in (None, ""):
        try:
            kind = DayKind(str(raw_kind).strip().lower())
        except ValueError:
            problems.append(
                Problem(where("kind"), "kind", f"'{raw_kind}' must be 'holiday' or 'workday'")
            )
    name = unicodedata.normalize("NFC", str(rec.get("name") or "")).strip()
    if len(name) > MAX_NAME:
        problems.append(Problem(where("name"), "name", f"longer than {MAX_NAME} characters"))
    source = unicodedata.normalize("NFC", str(rec.get("source") or "")).strip()
    if len(problems) > before or day is None or kind is None:
        return None
    return CalendarDay(date=day, kind=kind, name=name, source=source)


def parse_calendar(data: bytes) -> list[CalendarDay]:
    """Parse and validate a whole calendar file; raise ``CalendarFileError`` listing every
    problem with its line and field."""
    if len(data) > MAX_FILE_BYTES:
        raise CalendarFileError([Problem("file", "", "larger than 1 MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarFileError([Problem("file", "", f"not UTF-8 text ({exc.reason})")]) from exc
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        reason = getattr(exc, "problem", None) or str(exc)
        raise CalendarFileError([Problem(where, "", f"invalid YAML: {reason}")]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("days"), list):
        raise CalendarFileError([Problem("file", "days", "expected a mapping with a list 'days'")])
    if str(doc.get("version", 1)) != "1":
        raise CalendarFileError([Problem("file", "version", "only version 1 is supported")])
    if len(doc["days"]) > MAX_DAYS:
        raise CalendarFileError([Problem("file", "days", f"more than {MAX_DAYS} entries")])
    problems: list[Problem] = []
    days: list[CalendarDay] = []
    seen: dict[date, str] = {}
    for i, item in enumerate(doc["days"], start=1):
        if not isinstance(item, dict):
            problems.append(Problem(f"entry {i}", "", "each day must be a mapping of fields"))
            continue
        lines = item.get("__lines__", {})
        place = f"line {lines.get('date', item.get('__line__', '?'))}"
        day = _day_from_record(item, problems)
        if day is None:
            continue
        if day.date in seen:
            problems.append(
                Problem(place, "date", f"duplicate date {day.date} (first at {seen[day.date]})")
            )
            continue
        seen[day.date] = place
        days.append(day)
    if problems:
        raise CalendarFileError(problems)
    return days


def read_calendar_file(path: str | Path) -> list[CalendarDay]:
    """Read and validate one calendar file; problems are prefixed with the file name."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CalendarFileError(
            [Problem(str(p), "", f"cannot read the file: {exc.strerror}")]
        ) from exc
    try:
        return parse_calendar(data)
    except CalendarFileError as exc:
        raise CalendarFileError(
            Problem(f"{p.name} {pr.where}", pr.field, pr.message) for pr in exc.problems
        ) from exc


def load_calendar(*paths: str | Path, bundled: bool = True) -> WorkCalendar:
    """The bundled calendar merged with operator files, in order: for the same date a later
    file wins, so an operator can add a local holiday, a newly announced swap, or correct an
    entry. Every problem of every file is reported together and nothing is loaded if any."""
    files = [BUNDLED_CALENDAR, *map(Path, paths)] if bundled else [*map(Path, paths)]
    days: list[CalendarDay] = []
    problems: list[Problem] = []
    for path in files:
        try:
            days.extend(read_calendar_file(path))
        except CalendarFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CalendarFileError(problems)
    return WorkCalendar.from_days(days)
