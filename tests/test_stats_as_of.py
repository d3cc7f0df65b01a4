"""Statistics never change the past: property tests on random histories and calendars.

Random dossier histories (status events through the real ingest) on random working-day
calendars (random holidays and make-up Saturdays) are stored twice: once with every event,
and, for each of a few dates D, once with only the events up to D. For every D:

- the figures as of D (volumes, groups, Decision 766 verdicts, each month) are the same from
  the events up to D as from all events, in the database (SQL + Python) and in pure Python;
- SQL and Python give the same verdict for every dossier SQL judges, and the database's
  figures equal ``summarise()`` over the histories read independently of the database.

Runs on SQLite and on PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.status import DossierStatus as S
from bot.domain.dossiers.timeliness import DossierTimes, Timeliness, summarise, timeliness
from bot.domain.dossiers.workdays import WorkCalendar
from bot.domain.ingest import Ingestor, validate_batch
from bot.domain.stats import indexes
from bot.domain.stats.periods import Period
from bot.domain.vietnam_time import VN_TZ as VN
from handlers.notifications import DOSSIER_NOTIFICATIONS
from storage.db import create_engine, session_factory
from storage.models import Agency, Dossier, DossierEvent, DossierPause, OutboxMessage, Procedure
from storage.repositories import dossiers as dossier_repo
from storage.repositories import stats as repo

START = date(2025, 9, 1)  # a Monday; Quốc khánh 2/9 may or may not be a holiday here
LIMITS = (3, 5)
#: What may follow each status in a random history (the order ingest accepts).
NEXT: dict[int, tuple[int, ...]] = {
    1: (2, 2, 2, 3, 7),
    2: (4, 5, 5, 6, 9, 7, 8),
    4: (5, 5, 5, 6, 9, 9, 7, 8),
    5: (4, 4, 4, 6, 9, 7, 8),
    6: (4, 5, 9),
    9: (10,),
}


@dataclass(frozen=True)
class History:
    """One random dossier: received (snapshot status 2) or new (status 1), its events."""

    n: int
    new: bool
    received: date
    due: date | None
    procedure: int
    events: tuple[tuple[datetime, int], ...]


@st.composite
def histories(draw: st.DrawFn, calendar: WorkCalendar) -> list[History]:
    out: list[History] = []
    for n in range(draw(st.integers(min_value=1, max_value=8))):
        new = draw(st.booleans()) and draw(st.booleans())  # about one in four
        received = START + timedelta(days=draw(st.integers(min_value=0, max_value=45)))
        procedure = draw(st.integers(min_value=0, max_value=len(LIMITS) - 1))
        due = None
        if not new and draw(st.integers(min_value=0, max_value=4)):
            due = calendar.add_workdays(received, LIMITS[procedure] + draw(st.integers(-1, 2)))
            due = max(due, received)
        status = 1 if new else 2
        moment = datetime.combine(received, time(7, 30), VN)
        events: list[tuple[datetime, int]] = []
        for gap, minutes, pick in draw(
            st.lists(
                st.tuples(
                    st.integers(min_value=0, max_value=8),
                    st.integers(min_value=0, max_value=600),
                    st.integers(min_value=0, max_value=20),
                ),
                max_size=8,
            )
        ):
            choices = NEXT.get(status)
            if not choices:
                break
            day = moment.date() + timedelta(days=gap)
            at = datetime.combine(day, time(7, 30), VN) + timedelta(minutes=minutes)
            moment = max(moment, at)
            status = choices[pick % len(choices)]
            events.append((moment, status))
        out.append(History(n, new, received, due, procedure, tuple(events)))
    return out


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    days = [START + timedelta(days=i) for i in range(150)]
    holidays = draw(st.sets(st.sampled_from([d for d in days if d.weekday() < 5]), max_size=8))
    saturdays = [d for d in days if d.weekday() == 5]
    makeup = draw(st.sets(st.sampled_from(saturdays), max_size=3))
    return WorkCalendar(holidays=holidays, makeup_workdays=makeup)


@st.composite
def cases(draw: st.DrawFn) -> tuple[WorkCalendar, list[History], list[date]]:
    calendar = draw(calendars())
    items = draw(histories(calendar))
    # Dates to judge at: anywhere, and around the events (the day before, of, and the days
    # after, weekends included), where a verdict could depend on what comes next.
    days = sorted({at.astimezone(VN).date() for h in items for at, _ in h.events})
    anywhere = st.integers(min_value=0, max_value=100).map(lambda k: START + timedelta(days=k))
    near = (
        st.tuples(st.sampled_from(days), st.integers(min_value=-1, max_value=4)).map(
            lambda dk: dk[0] + timedelta(days=dk[1])
        )
        if days
        else anywhere
    )
    picked = draw(st.lists(st.one_of(anywhere, near, near), min_size=1, max_size=3, unique=True))
    ends = [(d - START).days for d in picked if d >= START]
    ends = ends or [0]
    return calendar, items, [START + timedelta(days=k) for k in sorted(ends)]


# --------------------------------------------------------------------------- the reference


def reference_times(h: History, upto: date | None) -> DossierTimes | None:
    """The history read directly, without the database: what ``DossierTimes`` the events up
    to ``upto`` (all of them with ``None``) describe. ``None`` when never received."""
    kept = [(at, s) for at, s in h.events if upto is None or at.astimezone(VN).date() <= upto]
    status = 1 if h.new else 2
    received: date | None = None if h.new else h.received
    finished: date | None = None
    pauses: list[tuple[date, date | None]] = []
    for at, new in kept:
        day = at.astimezone(VN).date()
        if new in (2, 3) and received is None:
            received = day
        if new == 5 and status != 5:
            pauses.append((day, None))
        elif status == 5 and new != 5:
            start, _ = pauses[-1]
            pauses[-1] = (start, max(day, start))
        if finished is None and (new in (9, 10) or (new in (7, 8) and received is not None)):
            finished = day
        status = new
    if received is None or status in (1, 3):
        return None
    return DossierTimes(
        received=received,
        due=h.due,
        finished=finished,
        status=S(status),
        supplement_requests=len(pauses),
        pauses=tuple(pauses),
        legal_days=LIMITS[h.procedure],
    )


# --------------------------------------------------------------------------- the database


def code(copy: int, n: int) -> str:
    return f"000.00.12.H13-250901-{copy * 100 + n + 1:04d}"


async def store(
    session: AsyncSession, ingestor: Ingestor, agency: str, copy: int, items: list[History],
    upto: date | None,
) -> None:  # fmt: skip
    """Ingest the histories under ``agency`` through the API's code path: the snapshot first
    (as the one-stop system sends a new dossier), then the events up to ``upto``."""
    dossiers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for h in items:
        dossiers.append(
            {
                "code": code(copy, h.n),
                "procedure_code": f"P{h.procedure}",
                "receiving_agency": agency,
                "received_date": None if h.new else h.received.isoformat(),
                "due_date": h.due.isoformat() if h.due else None,
                "status": 1 if h.new else 2,
            }
        )
        for k, (at, status) in enumerate(h.events):
            if upto is None or at.astimezone(VN).date() <= upto:
                events.append(
                    {
                        "id": f"{copy}-{h.n}-{k}",
                        "dossier_code": code(copy, h.n),
                        "at": at.isoformat(),
                        "status": status,
                    }
                )
    for body in ({"dossiers": dossiers}, {"events": events}):
        if not body.get("events", True):
            continue
        parsed, parsed_events, errors = validate_batch(body)
        assert not errors, errors
        result = await ingestor.apply(session, parsed, parsed_events, scope=None)
        assert not result.errors, result.errors
    await session.commit()


@dataclass
class City:
    sessions: Any
    full: Agency
    copies: list[Agency]


@asynccontextmanager
async def _city(database_url: str) -> AsyncIterator[City]:
    """The agencies and procedures, made by the first example and found by the next ones
    (the database lives as long as the test; each example clears its dossiers)."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions() as s:
        found = await dossier_repo.agencies_by_code(s, ["C", "F", "X0", "X1", "X2"])
        if not found:
            city = await dossier_repo.add_agency(s, code="C", name="Thành phố", level="tinh")
            for code_, name in (("F", "Đủ"), ("X0", "Đến D0"), ("X1", "Đến D1"), ("X2", "Đến D2")):
                await dossier_repo.add_agency(s, code=code_, name=name, level="xa", parent=city)
            s.add_all(
                Procedure(code=f"P{i}", name=f"P{i}", time_limit=n) for i, n in enumerate(LIMITS)
            )
            await s.commit()
            found = await dossier_repo.agencies_by_code(s, ["C", "F", "X0", "X1", "X2"])
    try:
        yield City(sessions, found["F"], [found[f"X{k}"] for k in range(3)])
    finally:
        await engine.dispose()


async def _clear(session: AsyncSession) -> None:
    for model in (OutboxMessage, DossierEvent, DossierPause, Dossier):
        await session.execute(delete(model))
    await session.commit()


def _figures(stats: indexes.Statistics) -> tuple[object, ...]:
    return (
        stats.dossiers.received,
        stats.dossiers.refused,
        stats.dossiers.finished,
        dict(stats.dossiers.by_group),
        stats.dossiers.timeliness,
        [(m.label, m.judged, m.on_time) for m in stats.monthly],
        sorted((u.code, u.received, u.finished, u.timeliness) for u in stats.by_procedure),
    )


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(case=cases())
async def test_figures_as_of_a_date_depend_only_on_events_up_to_it(
    database_url: str, case: tuple[WorkCalendar, list[History], list[date]]
) -> None:
    calendar, items, ends = case
    async with _city(database_url) as city:
        ingestor = Ingestor(b"test-secret", DOSSIER_NOTIFICATIONS)
        async with city.sessions() as s:
            await store(s, ingestor, "F", 0, items, None)
            for k, end in enumerate(ends):
                await store(s, ingestor, f"X{k}", k + 1, items, end)
            for k, end in enumerate(ends):
                period = Period(START, end, f"đến {end:%d/%m/%Y}")
                everything = await indexes.compute(
                    s, period=period, calendar=calendar, agency=city.full, concurrent=False
                )
                so_far = await indexes.compute(
                    s, period=period, calendar=calendar, agency=city.copies[k], concurrent=False
                )
                assert _figures(everything) == _figures(so_far), end

                # Pure Python, from the histories themselves: the same at D either way.
                whole = [reference_times(h, None) for h in items]
                cut = [reference_times(h, end) for h in items]
                for h, a, b in zip(items, whole, cut, strict=True):
                    va = None if a is None else timeliness(a, calendar, end)
                    vb = None if b is None else timeliness(b, calendar, end)
                    assert va == vb, (h, end)
                want = summarise(
                    [t for t in whole if t is not None], calendar, end, period_start=START
                )
                got = everything.dossiers.timeliness
                assert {t: got.count(t) for t in Timeliness} == {
                    t: want.counts.get(t, 0) for t in Timeliness
                }
                assert got.unjudged == want.unjudged

                # SQL and Python agree on every dossier SQL judges.
                f = indexes.period_filter(period, city.full)
                owned = select(Dossier).where(Dossier.handling_agency_id == city.full.id)
                by_id = {row.id: row.code for row in await s.scalars(owned)}
                for dossier_id, verdict in (await repo.sql_verdicts(s, f)).items():
                    h = items[int(by_id[dossier_id][-4:]) - 1]
                    reference = reference_times(h, None)
                    assert reference is not None
                    assert verdict == timeliness(reference, calendar, end), (h, end)
            await _clear(s)


@settings(max_examples=300, deadline=None)
@given(
    calendar=calendars(),
    received=st.integers(min_value=0, max_value=40),
    limit=st.integers(min_value=0, max_value=10),
    asked=st.integers(min_value=0, max_value=30),
    waiting=st.integers(min_value=0, max_value=20),
    with_due=st.booleans(),
)
def test_a_waiting_dossier_keeps_its_verdict_while_the_citizen_has_it(
    calendar: WorkCalendar, received: int, limit: int, asked: int, waiting: int, with_due: bool
) -> None:
    """Paused time is paused: from the day a supplement is asked for until it is supplied,
    the verdict of an unfinished dossier does not move, weekends and holidays included."""
    start = START + timedelta(days=received)
    requested = start + timedelta(days=asked)
    item = DossierTimes(
        received=start,
        due=calendar.add_workdays(start, limit) if with_due else None,
        legal_days=limit,
        status=S.YEU_CAU_BO_SUNG,
        pauses=((requested, None),),
    )
    verdicts = {
        timeliness(item, calendar, requested + timedelta(days=k)) for k in range(waiting + 1)
    }
    assert len(verdicts) == 1, verdicts
