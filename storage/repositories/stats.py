"""The SQL behind the statistics (/thongke, /baocao, ``motcua stats``): counts, never formulas.

Everything here aggregates in the database and returns small lists of plain rows; the formulas
(rates, points, indexes) live in the domain's statistics (``indexes``), which also judges in
Python the few dossiers that SQL cannot judge alone.

**Which agency a dossier belongs to.** A dossier counts for its *handling* agency
(``handling_agency_id``), the one responsible for the deadline, as provincial reports and the
Decision 766 index do (domain.md §2.3). Under *phi địa giới* (NĐ 118/2025) a ward may receive
dossiers that another agency handles; counting them for the receiving ward would charge it with
deadlines it does not control. A rating counts for the agency stored on the response
(``feedback_responses.agency_id``); an invitation for its dossier's handling agency.

**Subtrees.** "This agency and everything under it" is ``agencies.path LIKE '/1/7/%'``
(``Agency.path``), as a sub-select of agency ids, so that the dossier side of the query stays a
plain ``IN`` the planner can use with the (agency, date) indexes.

**Which dossiers SQL judges.** The Decision 766 rule (the domain's ``timeliness``) needs
working-day arithmetic only to move an appointment date by paused working days, or to apply a
legal limit when there is no appointment date. So SQL judges, by comparing dates only, every
dossier that has an appointment date and no pause; the rest (pauses, no appointment date, or
data that ``DossierTimes`` would reject) is fetched with ``python_judged_dossiers`` and judged
by ``timeliness()`` itself. The split does not depend on the date judged at, so one fetch
serves the period and each of its months.

**As of a date.** Every verdict and count at a date D reads only what had happened by D: an
end of processing after D has not happened, a supplement request counts from its date, and
the supplement count of a dossier without dated requests (``supplement_count`` from a
snapshot) counts only once processing has ended, by which time it had surely happened. A
dossier's statistics group at D is derived from its dates the same way (``_group_at``), not
from its current status, and an invitation counts as answered only if it was answered by D.
So a published month never changes when later events arrive.

Timestamps are compared with UTC instants (see ``bot.domain.stats.periods.Period.bounds``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agency,
    AnswerFeedback,
    Dossier,
    DossierPause,
    FeedbackAnswer,
    FeedbackInvitation,
    FeedbackResponse,
    KbEntry,
    MessageLog,
    Procedure,
)

D = Dossier
P = DossierPause
FR = FeedbackResponse
FA = FeedbackAnswer

#: Status codes (``bot.domain.dossiers.status``): never received (1 new, 3 refused) have no
#: deadline; the ones a received dossier ends processing with (7 withdrawn, 8 stopped, 9 done, 10
#: returned) must carry an end date, and the others must not.
NOT_RECEIVED = (1, 3)
ENDING = (7, 8, 9, 10)

#: The verdicts SQL computes, as the values of the domain's ``Timeliness`` (in its order;
#: a test holds the two together). Storage returns these strings and never imports the domain.
VERDICTS = ("truoc_han", "dung_han", "qua_han", "dang_trong_han", "dang_qua_han")


@dataclass(frozen=True, slots=True)
class Filter:
    """What to count: an agency subtree (``agency_path`` "/1/7/", ``None`` for the whole
    city), an optional procedure, and the period as inclusive dates plus the UTC instants
    ``[start_at, end_at)`` of the same days in Vietnam."""

    start: date
    end: date
    start_at: datetime
    end_at: datetime
    agency_path: str | None = None
    procedure_id: int | None = None
    #: Only the ratings, invitations and questions of one chat channel ("telegram", "web"...);
    #: dossiers have no chat channel and are counted whatever it is.
    channel: str | None = None


# --------------------------------------------------------------------------- building blocks


def _subtree_ids(path: str) -> Select[Any]:
    return select(Agency.id).where(Agency.path.startswith(path, autoescape=True))


def _dossier_scope(f: Filter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.agency_path is not None:
        conds.append(D.handling_agency_id.in_(_subtree_ids(f.agency_path)))
    if f.procedure_id is not None:
        conds.append(D.procedure_id == f.procedure_id)
    return conds


INDEXED_KIND = "dossier"
"""Only ratings of a dossier whose owner proved it count in the indexes: a service-point rating
has no proof that its author used the service (anyone can send one), so it is kept, listed and
alerted on, but left out of every index (docs/security.md, "Ratings")."""


def _response_scope(f: Filter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [FR.submitted_at >= f.start_at, FR.submitted_at < f.end_at]
    if f.agency_path is not None:
        conds.append(FR.agency_id.in_(_subtree_ids(f.agency_path)))
    if f.procedure_id is not None:
        conds.append(FR.procedure_id == f.procedure_id)
    if f.channel is not None:
        conds.append(FR.channel == f.channel)
    return conds


def _population(f: Filter) -> list[ColumnElement[bool]]:
    """Dossiers "received or processed in the period" (``timeliness.summarise``): received
    (not status 1 or 3) by the period's end and not ended before its start."""
    return [
        D.status.not_in(NOT_RECEIVED),
        D.received_date.is_not(None),
        D.received_date <= f.end,
        or_(D.finished_date.is_(None), D.finished_date >= f.start),
        *_dossier_scope(f),
    ]


def _pause_summary(at: date | None = None) -> Any:
    """Per dossier with pauses: how many, and (with ``at``) whether one is open at the end of
    day ``at`` (requested by then, not resumed by then). Joined, not probed with EXISTS per
    dossier: one hash join over the pauses instead of a sub-plan evaluated for each of the
    period's dossiers."""
    columns: list[Any] = [P.dossier_id.label("dossier_id"), func.count().label("n")]
    if at is not None:
        open_at = and_(P.requested_date <= at, or_(P.resumed_date.is_(None), P.resumed_date > at))
        columns.append(func.max(case((open_at, 1), else_=0)).label("open_at"))
    return select(*columns).group_by(P.dossier_id).subquery("pause_summary")


def _status_at(at: date, pauses: Any) -> ColumnElement[int]:
    """A dossier's status at the end of day ``at`` as far as its dates tell, for the
    statistics group (``bot.domain.dossiers.status.StatsGroup``): never received (1, 3) as stored;
    ended by ``at``: the ending status stored; otherwise 5 while a pause is open at ``at``,
    else 4 (in progress). The current status of a dossier that ended later is not used, so
    the group at ``at`` does not change when it ends."""
    ended = and_(D.finished_date.is_not(None), D.finished_date <= at)
    return case(
        (D.status.in_(NOT_RECEIVED), D.status),
        (ended, D.status),
        (func.coalesce(pauses.c.open_at, 0) == 1, 5),
        else_=4,
    )


def _judged_from(pauses: Any) -> Any:
    """Dossiers with their pause summary (``None`` columns for dossiers without pauses)."""
    return D.__table__.outerjoin(pauses, pauses.c.dossier_id == D.id)


def _sql_judgeable(pauses: Any) -> ColumnElement[bool]:
    """Dossiers whose verdict needs no working-day arithmetic, and whose data ``DossierTimes``
    accepts (anything it would reject goes to Python, which counts it as unjudged): an
    appointment date and no pause. ``pauses`` is the joined ``_pause_summary()``."""
    consistent = and_(
        D.status.between(1, 10),
        D.supplement_count >= 0,
        or_(D.due_date.is_(None), D.due_date >= D.received_date),
        or_(D.finished_date.is_(None), D.finished_date >= D.received_date),
        or_(
            and_(D.finished_date.is_not(None), D.status.in_(ENDING)),
            and_(D.finished_date.is_(None), D.status.not_in(ENDING)),
        ),
    )
    return and_(consistent, D.due_date.is_not(None), pauses.c.n.is_(None))


def _verdict(as_of: date) -> ColumnElement[int]:
    """``timeliness()`` at ``as_of`` for SQL-judgeable dossiers, as an index into VERDICTS.
    Without dated requests, more than one supplement request counts from the end of
    processing (``timeliness.requests_by``): before it the dossier is judged by its dates."""
    ended = and_(D.finished_date.is_not(None), D.finished_date <= as_of)
    return case(
        (and_(ended, D.supplement_count > 1), 2),
        (and_(ended, D.finished_date < D.due_date), 0),
        (and_(ended, D.finished_date == D.due_date), 1),
        (ended, 2),
        (D.due_date >= as_of, 3),
        else_=4,
    )


def _on_time_at(as_of: date) -> ColumnElement[bool]:
    """The verdict at ``as_of`` is in the on-time set (early, on time, still within limit)."""
    ended = and_(D.finished_date.is_not(None), D.finished_date <= as_of)
    return or_(
        and_(ended, D.supplement_count <= 1, D.finished_date <= D.due_date),
        and_(not_(ended), D.due_date >= as_of),
    )


def _bucket(column: Any, starts: Sequence[Any]) -> ColumnElement[int]:
    """The index of the month a value falls in, given each month's first day or instant
    (the first one being the period's start; values before it never reach here)."""
    if len(starts) <= 1:
        return literal(0)
    whens = [(column < s, i) for i, s in enumerate(starts[1:])]
    return case(*whens, else_=len(starts) - 1)


# --------------------------------------------------------------------------- session


#: Settings for the statistics queries on PostgreSQL, for the rest of the caller's transaction.
#: JIT compilation of the many CASE expressions costs more (about a second) than running them
#: uncompiled (a few hundred milliseconds) and kicks in as soon as the estimated cost crosses
#: ``jit_above_cost``, that is, as the city's data grows; a larger ``work_mem`` keeps the
#: grouping and hashing of a year of answers in memory instead of spilling to disk.
PG_SETTINGS = {"jit": "off", "work_mem": "64MB"}


async def tune_for_reporting(session: AsyncSession) -> None:
    """Apply ``PG_SETTINGS`` with ``SET LOCAL`` (PostgreSQL only): they end with the caller's
    transaction and change nothing but how its remaining queries are planned."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name, value in PG_SETTINGS.items():
        await session.execute(select(func.set_config(name, value, True)))


# --------------------------------------------------------------------------- dossiers


@dataclass(frozen=True, slots=True)
class DossierGroup:
    """Dossiers of one (handling agency, procedure, current status, SQL verdict).

    ``status`` is the status at the period's end as ``_status_at`` derives it from the dates.
    ``received``: received in the period (whatever the status: the caller separates refused
    ones, status 3); ``finished``: received dossiers (not status 1 or 3) whose processing ended
    in the period; ``judged``: how many of them SQL judged with ``verdict`` at the period's end
    (``verdict`` is ``None`` for a group outside the period's population or left to Python)."""

    agency_id: int
    procedure_id: int
    status: int
    verdict: str | None  # one of VERDICTS
    count: int
    received: int
    finished: int


async def dossier_counts(
    session: AsyncSession, f: Filter, months: Sequence[tuple[date, date]] = ()
) -> tuple[list[DossierGroup], list[tuple[int, int]]]:
    """One scan of the period's dossiers for every SQL count: volumes, the verdicts at the
    period's end of the SQL-judgeable ones, and for each (first, last) day of a month the
    SQL-judgeable (on time, judged) with the month as the period (received by its last day,
    not ended before its first day, judged at its last day)."""
    pauses = _pause_summary(f.end)
    status_at = _status_at(f.end, pauses).label("status_at")
    received_in = and_(D.received_date >= f.start, D.received_date <= f.end)
    finished_in = and_(
        D.finished_date >= f.start, D.finished_date <= f.end, D.status.not_in(NOT_RECEIVED)
    )
    population = and_(*_population(f))
    judged = and_(population, _sql_judgeable(pauses))
    verdict = case((judged, _verdict(f.end)), else_=-1).label("verdict")
    columns: list[Any] = [
        func.sum(case((received_in, 1), else_=0)),
        func.sum(case((finished_in, 1), else_=0)),
    ]
    # Month sums are kept only for groups SQL judged (verdict >= 0), so their conditions are
    # plain date comparisons instead of repeating the judgeable test once per month.
    for first, last in months:
        in_month = and_(
            D.received_date <= last, or_(D.finished_date.is_(None), D.finished_date >= first)
        )
        columns.append(func.sum(case((and_(in_month, _on_time_at(last)), 1), else_=0)))
        columns.append(func.sum(case((in_month, 1), else_=0)))
    stmt = (
        select(D.handling_agency_id, D.procedure_id, status_at, verdict, func.count(), *columns)
        .select_from(_judged_from(pauses))
        .where(or_(population, received_in, finished_in), *_dossier_scope(f))
        .group_by(D.handling_agency_id, D.procedure_id, status_at, verdict)
    )
    groups: list[DossierGroup] = []
    monthly = [[0, 0] for _ in months]
    for row in await session.execute(stmt):
        v = int(row[3])
        groups.append(
            DossierGroup(
                agency_id=row[0],
                procedure_id=row[1],
                status=row[2],
                verdict=VERDICTS[v] if v >= 0 else None,
                count=int(row[4]),
                received=int(row[5] or 0),
                finished=int(row[6] or 0),
            )
        )
        if v < 0:
            continue
        for i in range(len(months)):
            monthly[i][0] += int(row[7 + 2 * i] or 0)
            monthly[i][1] += int(row[8 + 2 * i] or 0)
    return groups, [(a, b) for a, b in monthly]


class DossierRow(NamedTuple):
    """What ``DossierTimes`` needs about a dossier that Python judges, and where it counts.

    A named tuple, not a dataclass: tens of thousands are built per request, on the path that
    the database waits for, and a tuple is several times cheaper to build."""

    id: int
    agency_id: int
    procedure_id: int
    received: date
    due: date | None
    rescheduled_due: date | None
    finished: date | None
    status: int
    supplement_count: int
    time_limit: int | None
    time_unit: str
    pauses: tuple[tuple[date, date | None], ...]


#: The dossier's columns of a ``DossierRow``, in its order (its procedure's limit and unit and
#: its pauses come after, from each query's own joins).
_ROW_COLUMNS = (
    D.id,
    D.handling_agency_id,
    D.procedure_id,
    D.received_date,
    D.due_date,
    D.rescheduled_due_date,
    D.finished_date,
    D.status,
    D.supplement_count,
)


async def python_judged_dossiers(session: AsyncSession, f: Filter) -> list[DossierRow]:
    """The period's dossiers that SQL cannot judge alone, with their pauses (one query: a row
    per pause, or one row for a dossier without any)."""
    limits = {
        pid: (limit, unit)
        for pid, limit, unit in await session.execute(
            select(Procedure.id, Procedure.time_limit, Procedure.time_unit)
        )
    }
    pauses = _pause_summary()
    stmt = (
        select(*_ROW_COLUMNS, P.requested_date, P.resumed_date)
        .select_from(_judged_from(pauses))
        .outerjoin(P, P.dossier_id == D.id)
        .where(*_population(f), not_(_sql_judgeable(pauses)))
    )
    found: dict[int, tuple[Any, list[tuple[date, date | None]]]] = {}
    # Core execution on the session's connection: the ORM result layer costs more than the
    # query for tens of thousands of plain rows.
    connection = await session.connection()
    for r in await connection.execute(stmt):
        entry = found.get(r[0])
        if entry is None:
            entry = found[r[0]] = (r, [])
        if r[9] is not None:
            entry[1].append((r[9], r[10]))
    out: list[DossierRow] = []
    for r, spans in found.values():
        limit, unit = limits.get(r[2], (None, ""))
        if len(spans) > 1:
            spans.sort(key=lambda span: span[0])
        received = r[3] or date.min  # never null: the population requires a reception date
        out.append(
            DossierRow(r[0], r[1], r[2], received, r[4], r[5], r[6], r[7], r[8], limit, unit,
                       tuple(spans))
        )  # fmt: skip
    return out


#: The most lines ``dossier_lines`` returns.
MAX_LINES = 20_000


@dataclass(frozen=True, slots=True)
class DossierLine:
    """A dossier as the drill-down lists it (no identifiers of its owner but the masked name)."""

    row: DossierRow
    code: str
    owner_masked: str


async def dossier_lines(
    session: AsyncSession, f: Filter, limit: int = MAX_LINES
) -> tuple[list[DossierLine], bool]:
    """The console's drill-down: the period's population (``_population``, the dossiers the
    figures count) of a scope with what ``DossierTimes`` needs, one line each, and whether the
    list was cut at ``limit``. The caller judges each line: nothing here judges a dossier."""
    stmt = (
        select(
            *_ROW_COLUMNS, Procedure.time_limit, Procedure.time_unit, D.code, D.owner_name_masked
        )
        .join(Procedure, Procedure.id == D.procedure_id)
        .where(*_population(f))
        .order_by(D.received_date, D.id)
        .limit(limit + 1)
    )
    rows = list(await session.execute(stmt))
    cut = len(rows) > limit
    rows = rows[:limit]
    pauses: dict[int, list[tuple[date, date | None]]] = {}
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        found = await session.execute(
            select(DossierPause.dossier_id, DossierPause.requested_date, DossierPause.resumed_date)
            .where(DossierPause.dossier_id.in_(part))
            .order_by(DossierPause.dossier_id, DossierPause.requested_date)
        )
        for did, requested, resumed in found:
            pauses.setdefault(did, []).append((requested, resumed))
    out = [
        DossierLine(
            DossierRow(
                r[0], r[1], r[2], r[3] or date.min, r[4], r[5], r[6], r[7], r[8], r[9],
                r[10] or "", tuple(pauses.get(r[0], ())),
            ),
            r[11],
            r[12] or "",
        )
        for r in rows
    ]  # fmt: skip
    return out, cut


# --------------------------------------------------------------------------- satisfaction


@dataclass(frozen=True, slots=True)
class RatingCount:
    """Answers to the three-level rating (item ``rating3``) with one value, in one month of
    the period (``month`` indexes ``Period.months()``), for one (agency, procedure) of the
    responses; ``valid`` is the stored flag (a skipped answer has no value)."""

    month: int
    agency_id: int | None
    procedure_id: int | None
    value: int | None
    valid: bool
    count: int


async def rating_counts(
    session: AsyncSession, f: Filter, month_starts: Sequence[datetime], item_code: str
) -> list[RatingCount]:
    """Answers to ``item_code`` of the period's responses, per month, agency, procedure and
    value: the distribution, the monthly chart and the report breakdowns in one query."""
    month = _bucket(FR.submitted_at, month_starts).label("month")
    stmt = (
        select(month, FR.agency_id, FR.procedure_id, FA.value, FA.is_valid, func.count())
        .join(FR, FR.id == FA.response_id)
        .where(*_response_scope(f), FR.kind == INDEXED_KIND, FA.item_code == item_code)
        .group_by(month, FR.agency_id, FR.procedure_id, FA.value, FA.is_valid)
    )
    return [
        RatingCount(int(m), a, p, v, bool(ok), int(n))
        for m, a, p, v, ok, n in await session.execute(stmt)
    ]


@dataclass(frozen=True, slots=True)
class AnswerCount:
    """Answers to one item with one value over the period; ``valid`` is the stored flag."""

    item_code: str
    aspect: str
    kind: str
    scale: str
    value: int | None
    valid: bool
    count: int


async def answer_counts(session: AsyncSession, f: Filter, prefix: str) -> list[AnswerCount]:
    """Answers to the items whose code starts with ``prefix`` ("sipas."), per item and value."""
    stmt = (
        select(FA.item_code, FA.aspect, FA.kind, FA.scale, FA.value, FA.is_valid, func.count())
        .join(FR, FR.id == FA.response_id)
        .where(
            *_response_scope(f),
            FR.kind == INDEXED_KIND,
            FA.item_code.startswith(prefix, autoescape=True),
        )
        .group_by(FA.item_code, FA.aspect, FA.kind, FA.scale, FA.value, FA.is_valid)
    )
    return [
        AnswerCount(i, a, k, sc, v, bool(ok), int(n))
        for i, a, k, sc, v, ok, n in await session.execute(stmt)
    ]


async def response_count(session: AsyncSession, f: Filter) -> int:
    """Ratings submitted in the period (one response = one submission, however many items)."""
    stmt = select(func.count()).select_from(FR).where(*_response_scope(f))
    return int(await session.scalar(stmt) or 0)


async def dossiers_with_value(session: AsyncSession, f: Filter, item_code: str, value: int) -> int:
    """Distinct dossiers rated ``value`` on ``item_code`` in the period: the "dislike" part of
    Decision 766 component 5.4 (``rating3`` = 1, Không hài lòng). A semi-join from the few
    matching answers (found through the item index), not a join of every answer."""
    rated = select(FA.response_id).where(
        FA.item_code == item_code, FA.value == value, FA.is_valid.is_(true())
    )
    stmt = select(func.count(distinct(FR.dossier_id))).where(
        *_response_scope(f), FR.dossier_id.is_not(None), FR.id.in_(rated)
    )
    return int(await session.scalar(stmt) or 0)


async def invitation_counts(session: AsyncSession, f: Filter) -> tuple[int, int]:
    """(invitations sent in the period, how many of them were answered by its end).

    An invitation counts as answered when ``responded_at`` is before the period's end or a
    response submitted before it names it (an answer given later does not change the period), so
    the figure holds whichever of the two the rating flow records. Two plain queries (the
    second only looks at invitations not answered by then) rather than one with an OR
    over a sub-select, which PostgreSQL evaluates for every invitation.
    """
    FI = FeedbackInvitation
    sent_in = [FI.created_at >= f.start_at, FI.created_at < f.end_at]
    if f.channel is not None:
        sent_in.append(FI.channel == f.channel)
    scoped = f.agency_path is not None or f.procedure_id is not None
    answered_by_end = and_(FI.responded_at.is_not(None), FI.responded_at < f.end_at)
    first = select(func.count(), func.sum(case((answered_by_end, 1), else_=0)))
    first = first.select_from(FI).where(*sent_in)
    named = (
        select(func.count(distinct(FI.id)))
        .select_from(FI)
        .join(FR, FR.invitation_id == FI.id)
        .where(*sent_in, not_(answered_by_end), FR.submitted_at < f.end_at)
    )
    if scoped:
        first = first.join(D, D.id == FI.dossier_id).where(*_dossier_scope(f))
        named = named.join(D, D.id == FI.dossier_id).where(*_dossier_scope(f))
    sent, flagged = (await session.execute(first)).one()
    return int(sent or 0), int(flagged or 0) + int(await session.scalar(named) or 0)


@dataclass(frozen=True, slots=True)
class RatingRow:
    """One rating for the report: no user hash, no dossier code (with the date, agency and
    procedure it would point staff at the citizen who rated), the comment as stored (already
    masked at storage; the report masks it again)."""

    id: int
    submitted_at: datetime
    agency: str
    procedure: str
    channel: str
    comment: str
    answers: tuple[tuple[str, int | None], ...]


async def rating_rows(session: AsyncSession, f: Filter, limit: int) -> tuple[list[RatingRow], int]:
    """The period's ratings, newest first, at most ``limit``; and how many there are."""
    total = await response_count(session, f)
    stmt = (
        select(
            FR.id,
            FR.submitted_at,
            Agency.name,
            Procedure.name,
            FR.channel,
            FR.comment,
        )
        .outerjoin(Agency, Agency.id == FR.agency_id)
        .outerjoin(Procedure, Procedure.id == FR.procedure_id)
        .where(*_response_scope(f))
        .order_by(FR.submitted_at.desc(), FR.id.desc())
        .limit(limit)
    )
    heads = list(await session.execute(stmt))
    answers: dict[int, list[tuple[str, int | None]]] = {}
    ids = [h[0] for h in heads]
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        rows = await session.execute(
            select(FA.response_id, FA.item_code, FA.value, FA.is_valid)
            .where(FA.response_id.in_(part))
            .order_by(FA.response_id, FA.id)
        )
        for rid, item, value, valid in rows:
            answers.setdefault(rid, []).append((item, value if valid else None))
    out = [
        RatingRow(
            id=h[0],
            submitted_at=h[1],
            agency=h[2] or "",
            procedure=h[3] or "",
            channel=h[4],
            comment=h[5] or "",
            answers=tuple(answers.get(h[0], ())),
        )
        for h in heads
    ]
    return out, total


# --------------------------------------------------------------------------- questions (FAQ)


NOT_QUESTIONS = ("smalltalk", "progress")
"""Logged messages that are not questions (``knowledge.intents.NON_QUESTION_DECISIONS``):
greetings, thanks, a dossier's progress. They count neither as questions nor as unanswered."""


def _asked_in(f: Filter) -> list[ColumnElement[bool]]:
    conds = [MessageLog.created_at >= f.start_at, MessageLog.created_at < f.end_at]
    if f.channel is not None:
        conds.append(MessageLog.channel == f.channel)
    return conds


async def questions_and_entries(
    session: AsyncSession, f: Filter
) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Questions logged in the period per decision (answer, suggest, fallback), and how many
    times each entry answered one (most first): one scan of the log for both."""
    stmt = (
        select(MessageLog.decision, MessageLog.entry_id, func.count())
        .where(*_asked_in(f), MessageLog.decision.not_in(NOT_QUESTIONS))
        .group_by(MessageLog.decision, MessageLog.entry_id)
    )
    decisions: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    for decision, entry_id, n in await session.execute(stmt):
        decisions[decision] += int(n)
        if decision == "answer" and entry_id is not None:
            answered[str(entry_id)] += int(n)
    ranked = sorted(answered.items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(decisions), ranked


async def entry_questions(session: AsyncSession, ids: Sequence[str]) -> dict[str, str]:
    """The question (title) of each knowledge entry, for the ones that still exist."""
    if not ids:
        return {}
    found = await session.execute(select(KbEntry.id, KbEntry.question).where(KbEntry.id.in_(ids)))
    return {str(row[0]): str(row[1]) for row in found}


async def fallback_questions(session: AsyncSession, f: Filter) -> list[tuple[str, int]]:
    """Questions the assistant could not answer, grouped by their exact text; the caller
    merges spellings (with and without diacritics) that the database cannot fold."""
    stmt = (
        select(MessageLog.question, func.count())
        .where(*_asked_in(f), MessageLog.decision == "fallback")
        .group_by(MessageLog.question)
    )
    return [(q, int(n)) for q, n in await session.execute(stmt)]


async def answer_feedback_counts(
    session: AsyncSession, f: Filter
) -> list[tuple[bool, bool | None, int]]:
    """Verdicts on answers given in the period: (helpful, trip saved or None, count)."""
    stmt = (
        select(AnswerFeedback.helpful, AnswerFeedback.trip_saved, func.count())
        .where(
            AnswerFeedback.created_at >= f.start_at,
            AnswerFeedback.created_at < f.end_at,
            *([AnswerFeedback.channel == f.channel] if f.channel is not None else []),
        )
        .group_by(AnswerFeedback.helpful, AnswerFeedback.trip_saved)
    )
    return [
        (bool(h), t if t is None else bool(t), int(n)) for h, t, n in await session.execute(stmt)
    ]


# --------------------------------------------------------------------------- names


async def subtree_agencies(session: AsyncSession, path: str | None) -> list[Agency]:
    """The agencies of a subtree (all of them for ``None``)."""
    stmt = select(Agency).order_by(Agency.path)
    if path is not None:
        stmt = stmt.where(Agency.path.startswith(path, autoescape=True))
    return list(await session.scalars(stmt))


async def procedure_names(session: AsyncSession, ids: Sequence[int]) -> dict[int, Procedure]:
    """The procedures with these ids (for the per-procedure rows of the report)."""
    if not ids:
        return {}
    rows = await session.scalars(select(Procedure).where(Procedure.id.in_(set(ids))))
    return {p.id: p for p in rows}


async def sql_verdicts(session: AsyncSession, f: Filter) -> dict[int, str]:
    """Each SQL-judgeable dossier of the period's population with the verdict SQL gives it at
    the period's end (``_verdict``): what ``dossier_counts`` counts, dossier by dossier, so
    that tests can hold it against ``timeliness()`` for every dossier."""
    pauses = _pause_summary()
    stmt = (
        select(D.id, _verdict(f.end))
        .select_from(_judged_from(pauses))
        .where(*_population(f), _sql_judgeable(pauses))
    )
    return {int(i): VERDICTS[int(v)] for i, v in await session.execute(stmt)}
