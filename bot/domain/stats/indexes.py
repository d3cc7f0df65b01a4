"""The statistics staff see with /thongke and /baocao, computed for an agency subtree, an
optional procedure and a period.

Formulas (domain.md §2 and §7; percentages are 0–100 throughout, ``None`` when there is nothing
to divide by, so that "no data" never reads as 0 %):

- **On-time rate, Decision 766 item 2.1**: the rules of ``bot.domain.dossiers.timeliness``, exactly:
  dossiers received or processed in the period, unfinished ones judged at the period's end,
  paused working days subtracted, more than one supplement request late. Most dossiers are
  judged by date comparisons in SQL; those with pauses or without an appointment date are
  judged in Python by ``timeliness()`` itself (``storage.repositories.stats``). Points: the rate
  × 20 (no threshold applies to 2.1).
- **Three-level rating** (item ``rating3``: 3 Rất hài lòng, 2 Hài lòng, 1 Không hài lòng): the
  share of each level among valid answers; "satisfied" is levels 2 and 3.
- **SIPAS-style aspects** (items ``sipas.<aspect>``, five levels): per item
  ``satisfied_pct = (n[4] + n[5]) / n[valid] × 100``; an aspect's index is the mean of its
  items' (one item per aspect today); ``sipas_estimate`` is the mean of the five aspect indexes
  that have answers. It is an internal estimate, **not** the Ministry of Home Affairs' SIPAS,
  which is a survey with its own sample and aggregation (domain.md §2.1 caution), and every
  rendering carries that label.
- **Decision 766 component 5.4**: ``100 − (late % + % of dossiers rated "Không hài lòng")``,
  both over the dossiers of the on-time rate; 6 points at 90 % or more, ``rate × 6 / 90`` below.
  The PAKN part of the formula is not counted: motcua does not handle PAKN yet.
- **Response rate**: invitations sent in the period that were answered, over invitations sent.
- **Questions**: questions logged in the period by decision, the most answered entries, the most
  frequent unanswered questions (folded: no diacritics, single spaces, no punctuation at the
  ends), the helpful share of answer verdicts and the trip-saved share among verdicts that said
  either way. Questions are not tied to an agency, so these figures are city-wide whatever the
  agency asked for.

A valid answer has ``is_valid`` set and a value within its scale; a skipped item is not valid
and is left out of every denominator.
"""

from __future__ import annotations

import asyncio
import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.domain.dossiers.status import DossierStatus, StatsGroup, is_received
from bot.domain.dossiers.timeliness import DossierTimes, Timeliness, timeliness
from bot.domain.dossiers.workdays import WorkCalendar
from bot.domain.privacy import mask_numbers
from bot.domain.stats.periods import Period
from knowledge.normalize import fold
from storage.models import Agency, Procedure
from storage.repositories import stats as repo

CITY_LABEL = "Toàn thành phố"
SIPAS_LABEL = "ước tính nội bộ, không phải chỉ số SIPAS chính thức của Bộ Nội vụ"
ON_TIME_MAX_POINTS = 20.0
C54_MAX_POINTS = 6.0
C54_THRESHOLD = 90.0
RATING3 = "rating3"
SIPAS_PREFIX = "sipas."
DISLIKE = 1
#: Values of the three-level rating, best first, with their portal names.
RATING3_LEVELS: tuple[tuple[int, str], ...] = (
    (3, "Rất hài lòng"),
    (2, "Hài lòng"),
    (1, "Không hài lòng"),
)
SATISFIED3 = frozenset({2, 3})
SATISFIED5 = frozenset({4, 5})
SCALE_MAX = {"3": 3, "5": 5}
#: The five SIPAS aspects (domain.md §2.1): code, full name, short name for the chart.
ASPECTS: tuple[tuple[str, str, str], ...] = (
    ("tiep_can", "Tiếp cận dịch vụ", "Tiếp cận"),
    ("tthc", "Thủ tục hành chính", "Thủ tục"),
    ("cong_chuc", "Công chức trực tiếp giải quyết công việc", "Công chức"),
    ("ket_qua", "Kết quả cung ứng dịch vụ", "Kết quả"),
    ("pakn", "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị", "Góp ý, PAKN"),
)
OVERALL_ASPECT = "tong_the"
DECISIONS: tuple[tuple[str, str], ...] = (
    ("answer", "Trả lời được"),
    ("suggest", "Gợi ý câu hỏi gần đúng"),
    ("fallback", "Chưa trả lời được"),
)
MAX_QUESTION_CHARS = 200
#: Chat channels as staff name them (a filter of ratings and questions).
CHANNEL_LABELS = {
    "telegram": "Telegram",
    "zalo_oa": "Zalo OA",
    "zalo_bot": "Zalo Bot",
    "web": "Trang web",
    "console": "Dòng lệnh",
}


def pct(part: int | float, whole: int | float) -> float | None:
    """``part / whole × 100``, or ``None`` when there is nothing to divide by."""
    return part * 100.0 / whole if whole else None


def points(rate_pct: float | None, max_points: float, threshold: float = 100.0) -> float | None:
    """Decision 766 points: full marks at ``threshold`` % or more, ``rate × max / threshold``
    below (domain.md §2.3)."""
    if rate_pct is None:
        return None
    return max_points if rate_pct >= threshold else rate_pct * max_points / threshold


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class TimelinessCounts:
    """Dossiers per Decision 766 verdict (``Timeliness``), and those that could not be judged.

    Field names are the ``Timeliness`` values, so ``counts.count(t)`` reads any of them.
    """

    truoc_han: int = 0
    dung_han: int = 0
    qua_han: int = 0
    dang_trong_han: int = 0
    dang_qua_han: int = 0
    unjudged: int = 0

    @classmethod
    def of(cls, counts: Mapping[Timeliness, int], unjudged: int = 0) -> TimelinessCounts:
        """From counts keyed by verdict (a ``TimelinessSummary.counts``, for instance)."""
        return cls(**{t.value: int(counts.get(t, 0)) for t in Timeliness}, unjudged=unjudged)

    def count(self, verdict: Timeliness) -> int:
        """How many dossiers got ``verdict``."""
        return int(getattr(self, verdict.value))

    @property
    def total(self) -> int:
        """The denominator of the on-time rate: every judged dossier."""
        return sum(self.count(t) for t in Timeliness)

    @property
    def on_time(self) -> int:
        """The numerator: early, on time, and unfinished within the limit."""
        return sum(self.count(t) for t in Timeliness if t.on_time)

    @property
    def late(self) -> int:
        """Finished late plus unfinished and already late."""
        return self.qua_han + self.dang_qua_han

    @property
    def finished(self) -> int:
        return self.truoc_han + self.dung_han + self.qua_han

    @property
    def unfinished(self) -> int:
        return self.dang_trong_han + self.dang_qua_han

    @property
    def rate_pct(self) -> float | None:
        """The Decision 766 on-time rate (item 2.1), in %."""
        return pct(self.on_time, self.total)

    @property
    def late_pct(self) -> float | None:
        return pct(self.late, self.total)

    def items(self) -> tuple[tuple[Timeliness, str, int], ...]:
        """(verdict, Vietnamese label, count), in report column order."""
        return tuple((t, t.label, self.count(t)) for t in Timeliness)


@dataclass(frozen=True, slots=True)
class DossierFigures:
    """Dossier volumes and timeliness of the period.

    ``received``: accepted dossiers (not status 1 or 3) received in the period; ``refused``:
    refused at the desk (status 3) in the period; ``finished``: received dossiers whose
    processing ended in the period; ``by_group``: the period's received dossiers (refused
    ones included) by their statistics group at the period's end (never their current one,
    so that a past period does not change); ``timeliness``: the 766 verdicts of every dossier
    received or processed in the period, which includes dossiers carried over from before it.
    """

    received: int
    refused: int
    finished: int
    by_group: tuple[tuple[StatsGroup, int], ...]
    timeliness: TimelinessCounts

    @property
    def on_time_rate_pct(self) -> float | None:
        return self.timeliness.rate_pct

    @property
    def on_time_points(self) -> float | None:
        """Decision 766 item 2.1 points, out of 20."""
        return points(self.timeliness.rate_pct, ON_TIME_MAX_POINTS)


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One chart point: the month (cut to the period), its on-time rate with the month as the
    period, and the share of satisfied three-level ratings submitted in it."""

    start: date
    end: date
    label: str
    judged: int
    on_time: int
    ratings: int
    satisfied: int

    @property
    def on_time_rate_pct(self) -> float | None:
        return pct(self.on_time, self.judged)

    @property
    def satisfied_pct(self) -> float | None:
        return pct(self.satisfied, self.ratings)


@dataclass(frozen=True, slots=True)
class LevelShare:
    """One level of the three-level rating: how many valid answers chose it, and their share."""

    value: int
    label: str
    count: int
    pct: float | None


@dataclass(frozen=True, slots=True)
class AspectIndex:
    """A SIPAS-style aspect: valid and satisfied answers (4 or 5), skipped ones, and the index
    (mean of its items' satisfied %)."""

    aspect: str
    label: str
    short_label: str
    valid: int
    satisfied: int
    skipped: int
    pct: float | None


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """The period's ratings: three-level distribution, SIPAS-style aspects, 5.4, response rate."""

    responses: int
    rating3: tuple[LevelShare, ...]
    rating3_valid: int
    rating3_skipped: int
    aspects: tuple[AspectIndex, ...]
    overall: AspectIndex | None
    sipas_estimate: float | None
    dislike_dossiers: int
    dossiers: int
    late: int
    invitations: int
    invitations_answered: int
    sipas_label: str = SIPAS_LABEL

    @property
    def rating3_satisfied_pct(self) -> float | None:
        """Rất hài lòng + Hài lòng over valid three-level answers."""
        return pct(sum(s.count for s in self.rating3 if s.value in SATISFIED3), self.rating3_valid)

    @property
    def dislike_pct(self) -> float | None:
        return pct(self.dislike_dossiers, self.dossiers)

    @property
    def c54_pct(self) -> float | None:
        """Decision 766 component 5.4: 100 − (late % + dislike %), never below 0."""
        if not self.dossiers:
            return None
        return max(0.0, 100.0 - (self.late + self.dislike_dossiers) * 100.0 / self.dossiers)

    @property
    def c54_points(self) -> float | None:
        """Points of 5.4 out of 6: full at 90 % or more, pro-rated below."""
        return points(self.c54_pct, C54_MAX_POINTS, C54_THRESHOLD)

    @property
    def response_rate_pct(self) -> float | None:
        return pct(self.invitations_answered, self.invitations)


@dataclass(frozen=True, slots=True)
class EntryCount:
    """A knowledge entry and how many times it answered a question."""

    entry_id: str
    question: str
    count: int


@dataclass(frozen=True, slots=True)
class QuestionCount:
    """An unanswered question (as most often written) and how many times it was asked."""

    text: str
    count: int


@dataclass(frozen=True, slots=True)
class Faq:
    """What citizens asked in the period (city-wide)."""

    questions: int
    by_decision: tuple[tuple[str, str, int], ...]
    top_entries: tuple[EntryCount, ...]
    unanswered: tuple[QuestionCount, ...]
    verdicts: int
    helpful: int
    trip_answers: int
    trip_saved: int

    def decision_count(self, decision: str) -> int:
        return next((n for d, _, n in self.by_decision if d == decision), 0)

    def decision_pct(self, decision: str) -> float | None:
        return pct(self.decision_count(decision), self.questions)

    @property
    def helpful_pct(self) -> float | None:
        return pct(self.helpful, self.verdicts)

    @property
    def trip_saved_pct(self) -> float | None:
        """Among verdicts that said whether a trip was saved (``trip_saved`` not null)."""
        return pct(self.trip_saved, self.trip_answers)


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """One row of "Theo cơ quan" or "Theo thủ tục": an agency's own dossiers (not its
    children's) or a procedure's, and the three-level satisfaction of its ratings."""

    id: int
    code: str
    name: str
    received: int
    finished: int
    timeliness: TimelinessCounts
    ratings: int
    satisfied: int

    @property
    def on_time_rate_pct(self) -> float | None:
        return self.timeliness.rate_pct

    @property
    def satisfied_pct(self) -> float | None:
        return pct(self.satisfied, self.ratings)


@dataclass(frozen=True, slots=True)
class Statistics:
    """Everything /thongke shows and /baocao writes, for one scope and period."""

    period: Period
    agency_id: int | None
    agency_name: str
    procedure_id: int | None
    procedure_name: str | None
    dossiers: DossierFigures
    monthly: tuple[MonthFigures, ...]
    satisfaction: Satisfaction
    faq: Faq
    by_agency: tuple[UnitFigures, ...] = field(default=())
    by_procedure: tuple[UnitFigures, ...] = field(default=())
    #: The chat channel the ratings and questions were limited to (None: every channel).
    channel: str | None = None

    @property
    def scope_label(self) -> str:
        """ "UBND phường Ninh Kiều" or "Toàn thành phố", with the procedure and the chat
        channel if any."""
        label = self.agency_name
        if self.procedure_name:
            label = f"{label} – {self.procedure_name}"
        if self.channel:
            label = f"{label} – kênh {CHANNEL_LABELS.get(self.channel, self.channel)}"
        return label


# --------------------------------------------------------------------------- judging in Python


def dossier_times(row: repo.DossierRow) -> DossierTimes | None:
    """The ``DossierTimes`` of a fetched row, or ``None`` when the data is inconsistent (it is
    then counted as unjudged, as the dossier lookup shows no verdict for it either). The legal
    limit counts only when given in working days, as in ``handlers.dossier``."""
    legal = row.time_limit if row.time_unit == "ngay_lam_viec" else None
    if legal is not None and legal < 0:
        legal = None
    try:
        return DossierTimes(
            received=row.received,
            due=row.due,
            rescheduled_due=row.rescheduled_due,
            finished=row.finished,
            status=DossierStatus(row.status),
            supplement_requests=row.supplement_count,
            pauses=row.pauses,
            legal_days=legal,
        )
    except ValueError:
        return None


class _Judge:
    """``timeliness()`` over the Python-judged dossiers, for the period and each month.

    A dossier whose processing ended by the date judged at gets the same verdict at any later
    date (the end and the pauses before it are fixed), so that verdict is computed once and
    reused for every month after it: the period and its twelve months cost little more than
    the period alone.
    """

    def __init__(self, rows: Iterable[repo.DossierRow], calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.items = [(row, dossier_times(row)) for row in rows]
        self._ended: dict[int, Timeliness | None] = {}

    def verdict(self, row_id: int, d: DossierTimes, as_of: date) -> Timeliness | None:
        """``timeliness(d, calendar, as_of)``, reusing the verdict of an ended dossier."""
        if d.finished is not None and d.finished <= as_of:
            if row_id not in self._ended:
                self._ended[row_id] = timeliness(d, self.calendar, as_of)
            return self._ended[row_id]
        return timeliness(d, self.calendar, as_of)

    def monthly(self, months: Sequence[tuple[date, date]]) -> list[tuple[int, int]]:
        """(on time, judged) for each (first, last) day of consecutive months, each month
        taken as the period: the same selection as ``judge`` month by month, but each row
        visits only the months it belongs to (received by the month's end, not ended before
        its start) instead of every row visiting every month."""
        firsts = [m[0] for m in months]
        lasts = [m[1] for m in months]
        out = [[0, 0] for _ in months]
        for row, d in self.items:
            if d is None or not is_received(d.status):
                continue
            lo = bisect.bisect_left(lasts, d.received)
            hi = len(months) if d.finished is None else bisect.bisect_right(firsts, d.finished)
            for k in range(lo, hi):
                verdict = self.verdict(row.id, d, lasts[k])
                if verdict is not None:
                    out[k][1] += 1
                    out[k][0] += verdict.on_time
        return [(a, b) for a, b in out]

    def judge(self, start: date, end: date) -> Iterable[tuple[repo.DossierRow, Timeliness | None]]:
        """Each row in the period [start, end] (``summarise``'s selection) with its verdict at
        ``end``; ``None`` for rows that cannot be judged, inconsistent data included."""
        for row, d in self.items:
            if d is None:
                if row.received <= end and (row.finished is None or row.finished >= start):
                    yield row, None
                continue
            if not is_received(d.status) or d.received > end:
                continue
            if d.finished is not None and d.finished < start:
                continue
            yield row, self.verdict(row.id, d, end)


#: What ``compute`` asks the database while Python judges: three-level ratings, aspect answers,
#: responses, dossiers rated "Không hài lòng", invitations (sent, answered), questions.
_Queried = tuple[list[repo.RatingCount], list[repo.AnswerCount], int, int, tuple[int, int], Faq]
#: The dossier queries: SQL groups, SQL monthly (on time, judged), rows for Python to judge.
_DossierQueries = tuple[list[repo.DossierGroup], list[tuple[int, int]], list[repo.DossierRow]]
#: Python's verdicts for the period, and its monthly (on time, judged).
_Judged = tuple[list[tuple[repo.DossierRow, Timeliness | None]], list[tuple[int, int]]]


def _judge_rows(
    rows: Iterable[repo.DossierRow],
    calendar: WorkCalendar,
    period: Period,
    months: Sequence[tuple[date, date]],
) -> tuple[list[tuple[repo.DossierRow, Timeliness | None]], list[tuple[int, int]]]:
    """The Python-judged dossiers' verdicts for the period, and per month (on time, judged)."""
    judge = _Judge(rows, calendar)
    return list(judge.judge(period.start, period.end)), judge.monthly(months)


# --------------------------------------------------------------------------- computing


def period_filter(
    period: Period,
    agency: Agency | None = None,
    procedure: Procedure | None = None,
    channel: str | None = None,
) -> repo.Filter:
    """The repository's filter for a period and scope: dates for dossiers, UTC instants for
    timestamps (see ``Period.bounds``), the agency's subtree path."""
    start_at, end_at = period.bounds()
    return repo.Filter(
        start=period.start,
        end=period.end,
        start_at=start_at,
        end_at=end_at,
        agency_path=agency.path if agency is not None else None,
        procedure_id=procedure.id if procedure is not None else None,
        channel=channel,
    )


@dataclass
class _Tally:
    verdicts: Counter[Timeliness] = field(default_factory=Counter)
    unjudged: int = 0
    received: int = 0
    finished: int = 0
    ratings: int = 0
    satisfied: int = 0

    def counts(self) -> TimelinessCounts:
        return TimelinessCounts.of(self.verdicts, self.unjudged)

    def has_data(self) -> bool:
        return bool(
            self.verdicts or self.unjudged or self.received or self.finished or self.ratings
        )


async def compute(
    session: AsyncSession,
    *,
    period: Period,
    calendar: WorkCalendar,
    agency: Agency | None = None,
    procedure: Procedure | None = None,
    top: int = 10,
    concurrent: bool = True,
    channel: str | None = None,
) -> Statistics:
    """Every figure of /thongke and /baocao for ``agency``'s subtree (``None``: the whole
    city), an optional procedure, and ``period``.

    Read-only, never commits. Runs in the caller's session; on PostgreSQL, when the session
    is bound to an engine and ``concurrent`` is true, the rating and question queries run at
    the same time on a second connection from that engine (released before returning),
    which does not see the caller's uncommitted writes: pass ``concurrent=False`` to count
    rows written earlier in the same transaction."""
    f = period_filter(period, agency, procedure, channel)
    months = period.months()
    await repo.tune_for_reporting(session)
    by_agency: defaultdict[int, _Tally] = defaultdict(_Tally)
    by_procedure: defaultdict[int, _Tally] = defaultdict(_Tally)
    total = _Tally()

    spans = [(m.start, m.end) for m in months]

    async def dossier_queries(s: AsyncSession) -> _DossierQueries:
        counted, sql_monthly = await repo.dossier_counts(s, f, spans)
        return counted, sql_monthly, await repo.python_judged_dossiers(s, f)

    def judge(rows: list[repo.DossierRow]) -> Awaitable[_Judged]:
        # CPU work, in a thread: the database answers the other queries meanwhile.
        return asyncio.to_thread(_judge_rows, rows, calendar, period, spans)

    async def dossier_side(s: AsyncSession) -> tuple[_DossierQueries, _Judged]:
        queried = await dossier_queries(s)
        return queried, await judge(queried[2])

    async def rating_side(s: AsyncSession) -> _Queried:
        month_starts = [m.bounds()[0] for m in months]
        return (
            await repo.rating_counts(s, f, month_starts, RATING3),
            await repo.answer_counts(s, f, SIPAS_PREFIX),
            await repo.response_count(s, f),
            await repo.dossiers_with_value(s, f, RATING3, DISLIKE),
            await repo.invitation_counts(s, f),
            await faq_figures(s, f, top=top),
        )

    bind = session.bind
    if concurrent and isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        # Two connections, so that PostgreSQL runs the dossier and the rating queries at the
        # same time (each is one backend, one core). The second reads its own snapshot: a
        # rating submitted in between may be counted on one side only, which statistics can
        # live with. Never on SQLite: one writer, one pooled connection, held by the caller.
        async with bind.connect() as connection, AsyncSession(bind=connection) as other:
            await repo.tune_for_reporting(other)
            (dossiers_queried, judged_rows), rated = await asyncio.gather(
                dossier_side(session), rating_side(other)
            )
    else:
        dossiers_queried = await dossier_queries(session)
        judged_rows, rated = await asyncio.gather(judge(dossiers_queried[2]), rating_side(session))
    counted, sql_monthly, _ = dossiers_queried
    judged, python_monthly = judged_rows
    ratings, answers, responses, dislike, invited, faq = rated

    # Volumes, and the timeliness of the period and of each month (the same rules with the
    # month as the period): SQL counts, then the Python-judged rest.
    refused = 0
    groups: Counter[StatsGroup] = Counter()
    for g in counted:
        tallies = (total, by_agency[g.agency_id], by_procedure[g.procedure_id])
        if g.verdict is not None:
            for t in tallies:
                t.verdicts[Timeliness(g.verdict)] += g.count
        status = _status(g.status)
        if status is not None:
            groups[status.group] += g.received
        if g.status == DossierStatus.KHONG_DUOC_TIEP_NHAN:
            refused += g.received
        elif status is None or is_received(status):
            for t in tallies:
                t.received += g.received
                t.finished += g.finished
    for drow, verdict in judged:
        for t in (total, by_agency[drow.agency_id], by_procedure[drow.procedure_id]):
            if verdict is None:
                t.unjudged += 1
            else:
                t.verdicts[verdict] += 1
    monthly_on_time = [
        [a + c, b + d] for (a, b), (c, d) in zip(sql_monthly, python_monthly, strict=True)
    ]

    # Satisfaction: the three-level rating per month, agency and procedure; the aspects.
    satisfaction = _satisfaction(
        ratings,
        answers,
        responses=responses,
        dislike=dislike,
        dossiers=total.counts(),
        invitations=invited,
    )
    monthly_ratings: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in ratings:
        if not _valid("3", r.value, r.valid):
            continue
        satisfied = r.count if r.value in SATISFIED3 else 0
        monthly_ratings[r.month][0] += r.count
        monthly_ratings[r.month][1] += satisfied
        for key, units in ((r.agency_id, by_agency), (r.procedure_id, by_procedure)):
            if key is not None:
                units[key].ratings += r.count
                units[key].satisfied += satisfied

    monthly = tuple(
        MonthFigures(
            start=m.start,
            end=m.end,
            label=m.label,
            judged=monthly_on_time[i][1],
            on_time=monthly_on_time[i][0],
            ratings=monthly_ratings[i][0],
            satisfied=monthly_ratings[i][1],
        )
        for i, m in enumerate(months)
    )

    dossiers = DossierFigures(
        received=total.received,
        refused=refused,
        finished=total.finished,
        by_group=tuple((g, groups[g]) for g in StatsGroup if groups[g]),
        timeliness=total.counts(),
    )
    agencies = sorted(await repo.subtree_agencies(session, f.agency_path), key=_tree_order)
    agency_rows = tuple(
        _unit(a.id, a.code, a.name, by_agency.get(a.id, _Tally()))
        for a in agencies
        if a.active or (a.id in by_agency and by_agency[a.id].has_data())
    )
    procs = await repo.procedure_names(
        session, [k for k, t in by_procedure.items() if t.has_data()]
    )
    procedure_rows = tuple(
        sorted(
            (_unit(p.id, p.code, p.name, by_procedure[p.id]) for p in procs.values()),
            key=lambda u: (-u.received - u.timeliness.total, u.name),
        )
    )
    return Statistics(
        period=period,
        agency_id=agency.id if agency is not None else None,
        agency_name=agency.name if agency is not None else CITY_LABEL,
        procedure_id=procedure.id if procedure is not None else None,
        procedure_name=procedure.name if procedure is not None else None,
        dossiers=dossiers,
        monthly=monthly,
        satisfaction=satisfaction,
        faq=faq,
        by_agency=agency_rows,
        by_procedure=procedure_rows,
        channel=channel,
    )


def _tree_order(agency: Agency) -> tuple[int, ...]:
    """Parents before children, siblings by id ("/1/2/" before "/1/10/")."""
    return tuple(int(part) for part in agency.path.strip("/").split("/") if part.isdigit())


def _status(code: int) -> DossierStatus | None:
    try:
        return DossierStatus(code)
    except ValueError:
        return None


def _unit(key: int, code: str, name: str, t: _Tally) -> UnitFigures:
    return UnitFigures(
        id=key,
        code=code,
        name=name,
        received=t.received,
        finished=t.finished,
        timeliness=t.counts(),
        ratings=t.ratings,
        satisfied=t.satisfied,
    )


def _valid(scale: str, value: int | None, flag: bool) -> bool:
    """A counted answer: flagged valid, with a value inside its scale."""
    return flag and value is not None and 1 <= value <= SCALE_MAX.get(scale, 5)


def _satisfaction(
    ratings: Iterable[repo.RatingCount],
    answers: Iterable[repo.AnswerCount],
    *,
    responses: int,
    dislike: int,
    dossiers: TimelinessCounts,
    invitations: tuple[int, int],
) -> Satisfaction:
    levels: Counter[int] = Counter()
    skipped3 = 0
    for r in ratings:
        if _valid("3", r.value, r.valid) and r.value is not None:
            levels[r.value] += r.count
        else:
            skipped3 += r.count
    # aspect -> item -> [valid, satisfied, skipped]
    items: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for a in answers:
        if a.kind != "hai_long" or a.scale != "5":
            continue
        cell = items[a.aspect][a.item_code]
        if _valid(a.scale, a.value, a.valid):
            cell[0] += a.count
            cell[1] += a.count if a.value in SATISFIED5 else 0
        else:
            cell[2] += a.count
    valid3 = sum(levels.values())
    rating3 = tuple(
        LevelShare(value, label, levels[value], pct(levels[value], valid3))
        for value, label in RATING3_LEVELS
    )

    def aspect_index(code: str, label: str, short: str) -> AspectIndex:
        cells = items.get(code, {})
        shares = [pct(c[1], c[0]) for c in cells.values()]
        known = [s for s in shares if s is not None]
        return AspectIndex(
            aspect=code,
            label=label,
            short_label=short,
            valid=sum(c[0] for c in cells.values()),
            satisfied=sum(c[1] for c in cells.values()),
            skipped=sum(c[2] for c in cells.values()),
            pct=sum(known) / len(known) if known else None,
        )

    aspects = tuple(aspect_index(*a) for a in ASPECTS)
    overall = (
        aspect_index(OVERALL_ASPECT, "Đánh giá chung", "Chung") if OVERALL_ASPECT in items else None
    )
    known = [a.pct for a in aspects if a.pct is not None]
    return Satisfaction(
        responses=responses,
        rating3=rating3,
        rating3_valid=valid3,
        rating3_skipped=skipped3,
        aspects=aspects,
        overall=overall,
        sipas_estimate=sum(known) / len(known) if known else None,
        dislike_dossiers=dislike,
        dossiers=dossiers.total,
        late=dossiers.late,
        invitations=invitations[0],
        invitations_answered=invitations[1],
    )


_SPACES = re.compile(r"\s+")


_EDGE_PUNCTUATION = " .,;:!?…\"'«»()"


def question_key(text: str) -> str:
    """How unanswered questions are grouped: no diacritics, lower case, single spaces, and no
    punctuation at either end ("Làm sao…?" and "lam sao…" are the same question)."""
    return _SPACES.sub(" ", fold(text)).strip(_EDGE_PUNCTUATION)


def merge_questions(rows: Iterable[tuple[str, int]], top: int) -> tuple[QuestionCount, ...]:
    """Group questions by ``question_key``; each group is shown as its most frequent spelling
    (numbers masked again, in case), most asked first."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for text, n in rows:
        key = question_key(text)
        if key:
            groups[key][_SPACES.sub(" ", text).strip()] += n
    ranked = sorted(
        (
            (sum(c.values()), min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0])
            for c in groups.values()
        ),
        key=lambda x: (-x[0], question_key(x[1])),
    )
    return tuple(QuestionCount(_clip(mask_numbers(text)), n) for n, text in ranked[: max(0, top)])


def _clip(text: str) -> str:
    return text if len(text) <= MAX_QUESTION_CHARS else text[: MAX_QUESTION_CHARS - 1] + "…"


async def faq_figures(session: AsyncSession, f: repo.Filter, *, top: int = 10) -> Faq:
    """Questions, top entries, unanswered questions and answer verdicts of the period."""
    decisions, answered = await repo.questions_and_entries(session, f)
    entries = answered[: max(0, top)]
    titles = await repo.entry_questions(session, [e for e, _ in entries])
    unanswered = merge_questions(await repo.fallback_questions(session, f), top)
    verdicts = await repo.answer_feedback_counts(session, f)
    return Faq(
        questions=sum(decisions.values()),
        by_decision=tuple((d, label, decisions.get(d, 0)) for d, label in DECISIONS),
        top_entries=tuple(EntryCount(e, _clip(titles.get(e, "")), n) for e, n in entries),
        unanswered=unanswered,
        verdicts=sum(n for _, _, n in verdicts),
        helpful=sum(n for h, _, n in verdicts if h),
        trip_answers=sum(n for _, t, n in verdicts if t is not None),
        trip_saved=sum(n for _, t, n in verdicts if t),
    )


# --------------------------------------------------------------------------- JSON (CLI)


def to_json(stats: Statistics) -> dict[str, Any]:
    """A JSON-ready view of the statistics, computed properties included (``motcua stats
    --json``). Percentages are 0–100, ``null`` when there is nothing to divide by."""

    def conv(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, tuple | list):
            return [conv(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            out = {name: conv(getattr(value, name)) for name in value.__dataclass_fields__}
            for name in dir(type(value)):
                attr = getattr(type(value), name)
                if isinstance(attr, property):
                    out[name] = conv(getattr(value, name))
            return out
        return value

    result: dict[str, Any] = conv(stats)
    return result
