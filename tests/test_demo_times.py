"""Times are stored as UTC instants (demo and ingest), and demo dossiers close their pauses
when they finish; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import demo
from bot.domain.dossiers.workdays import load_calendar
from bot.domain.ingest import Ingestor, validate_batch
from bot.domain.vietnam_time import VN_TZ as VN
from handlers.notifications import DOSSIER_NOTIFICATIONS
from storage.db import create_engine, session_factory
from storage.models import Dossier, DossierEvent, DossierPause, Procedure
from storage.repositories import dossiers as repo


def in_vietnam(value: datetime) -> datetime:
    """A stored time in Vietnam: SQLite returns the stored UTC digits without a zone."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(VN)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as s:
            yield s
    finally:
        await engine.dispose()


async def test_demo_times_are_vietnam_times_and_finished_dossiers_wait_for_nothing(
    session: AsyncSession,
) -> None:
    async with session.begin():
        await demo.generate(
            session, secret=b"demo", calendar=load_calendar(), today=date(2026, 6, 30), count=600
        )
    dossiers = {d.id: d for d in await session.scalars(select(Dossier))}
    events = list(await session.scalars(select(DossierEvent).order_by(DossierEvent.id)))
    assert events
    first: dict[int, DossierEvent] = {}
    for e in events:
        first.setdefault(e.dossier_id, e)
        # The demo writes events between 09:00 and 16:00, Vietnam time.
        assert 9 <= in_vietnam(e.at).hour <= 16, (e.at, in_vietnam(e.at))
    for dossier_id, e in first.items():
        d = dossiers[dossier_id]
        assert in_vietnam(e.at).date() == d.received_date
        assert d.submitted_at is not None and in_vietnam(d.submitted_at).hour == 8
    pauses = list(await session.scalars(select(DossierPause)))
    assert pauses
    for p in pauses:
        d = dossiers[p.dossier_id]
        if d.finished_date is not None:
            assert p.resumed_date is not None and p.resumed_date <= d.finished_date, (d.code, p)
        else:
            assert d.status == 5 or p.resumed_date is not None


async def test_ingested_times_are_stored_as_utc_instants(session: AsyncSession) -> None:
    async with session.begin():
        city = await repo.add_agency(session, code="000.00.12.H13", name="Phường", level="xa")
        session.add(Procedure(code="P", name="P", time_limit=5))
    batch = {
        "dossiers": [
            {
                "code": "000.00.12.H13-260116-0001",
                "procedure_code": "P",
                "receiving_agency": city.code,
                "received_date": "2026-01-16",
                "submitted_at": "2026-01-16T07:30:00",  # no zone: Vietnam time
                "status": 2,
            }
        ],
        "events": [
            {
                "id": "e1",
                "dossier_code": "000.00.12.H13-260116-0001",
                "at": "2026-01-16T23:30:00+07:00",  # 16:30 UTC, still the 16th in Vietnam
                "status": 5,
            }
        ],
    }
    dossiers, events, errors = validate_batch(batch)
    assert not errors
    async with session.begin():
        result = await Ingestor(b"k", DOSSIER_NOTIFICATIONS).apply(
            session, dossiers, events, scope=None
        )
    assert not result.errors
    session.expunge_all()
    event = await session.scalar(select(DossierEvent))
    row = await session.scalar(select(Dossier))
    pause = await session.scalar(select(DossierPause))
    assert event is not None and row is not None and pause is not None
    assert in_vietnam(event.at) == datetime(2026, 1, 16, 23, 30, tzinfo=VN)
    assert row.submitted_at is not None
    assert in_vietnam(row.submitted_at) == datetime(2026, 1, 16, 7, 30, tzinfo=VN)
    assert pause.requested_date == date(2026, 1, 16)
