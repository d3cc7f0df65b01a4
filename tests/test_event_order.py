"""Event order checked at ingest: an event that contradicts its dossier's history is refused
with 422 naming the event and the reason, nothing of the batch is saved; late but consistent
events are accepted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import App
from bot.server import make_web_app
from storage.models import Dossier, DossierEvent, DossierPause
from storage.repositories import apikeys
from storage.repositories import dossiers as repo
from tests.dossier_fixtures import CODE, build_city

PATH = "/api/v1/dossiers"
NEW_CODE = "000.00.12.H13-260116-0007"


@pytest.fixture
async def key(app: App) -> str:
    await build_city(app)  # CODE: received 15/01/2026, status 4, due 22/01
    async with app.sessions() as s, s.begin():
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        assert ward is not None
        _, secret = await apikeys.create(s, name="ninh-kieu", agency=ward)
    return secret


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(app))) as c:
        yield c


def event(eid: str, at: str, status: int, code: str = CODE, note: str = "") -> dict[str, Any]:
    return {"id": eid, "dossier_code": code, "at": at, "status": status, "note": note}


async def post(client: TestClient, key: str, body: object) -> tuple[int, dict[str, Any]]:
    resp = await client.post(PATH, json=body, headers={"Authorization": f"Bearer {key}"})
    return resp.status, await resp.json()


async def snapshot(app: App) -> tuple[int, int, int, int, int | None]:
    """(events, pauses, dossiers, the fixture dossier's status, its supplement count)."""
    async with app.sessions() as s:
        events = int(await s.scalar(select(func.count()).select_from(DossierEvent)) or 0)
        pauses = int(await s.scalar(select(func.count()).select_from(DossierPause)) or 0)
        dossiers = int(await s.scalar(select(func.count()).select_from(Dossier)) or 0)
        row = await repo.dossier_by_code(s, CODE)
    assert row is not None
    return events, pauses, dossiers, row.status, row.supplement_count


async def test_a_supplement_request_after_the_result_is_refused_and_nothing_saved(
    client: TestClient, key: str, app: App
) -> None:
    status, answer = await post(
        client, key, {"events": [event("r-1", "2026-01-20T15:00:00+07:00", 9)]}
    )
    assert status == 200, answer
    before = await snapshot(app)
    body = {
        "dossiers": [
            {
                "code": NEW_CODE,
                "procedure_code": "1.001193",
                "receiving_agency": "000.00.12.H13",
                "received_date": "2026-01-16",
                "due_date": "2026-01-23",
                "status": 2,
            }
        ],
        "events": [
            event("n-1", "2026-01-19T09:00:00+07:00", 4, code=NEW_CODE),  # fine on its own
            event("late-5", "2026-01-21T09:00:00+07:00", 5, note="Thiếu giấy"),
        ],
    }
    status, answer = await post(client, key, body)
    assert status == 422
    assert answer["problems"] == [
        {
            "item": "events[1]",
            "field": "status",
            "message": "event 'late-5' (2026-01-21T09:00:00+07:00, status 5): a supplement "
            "request after the result (status 9) is not possible",
        }
    ]
    assert await snapshot(app) == before  # not the new dossier, not its valid event


async def test_a_result_before_receipt_is_refused(client: TestClient, key: str, app: App) -> None:
    before = await snapshot(app)
    status, answer = await post(
        client, key, {"events": [event("early", "2026-01-14T09:00:00+07:00", 9)]}
    )
    assert status == 422
    [problem] = answer["problems"]
    assert problem["item"] == "events[0]" and problem["field"] == "at"
    assert "'early'" in problem["message"]
    assert "before the dossier was received on 15/01/2026" in problem["message"]
    # A dossier still "new" (1) cannot get a result before it is received either.
    status, answer = await post(
        client,
        key,
        {
            "dossiers": [
                {
                    "code": NEW_CODE,
                    "procedure_code": "1.001193",
                    "receiving_agency": "000.00.12.H13",
                    "status": 1,
                }
            ],
            "events": [event("res", "2026-01-19T09:00:00+07:00", 10, code=NEW_CODE)],
        },
    )
    assert status == 422
    assert (
        "a result (status 10) before the dossier was received" in (answer["problems"][0]["message"])
    )
    assert await snapshot(app) == before


async def test_an_event_older_than_the_previous_one_is_refused(
    client: TestClient, key: str, app: App
) -> None:
    status, _ = await post(client, key, {"events": [event("a", "2026-01-19T09:00:00+07:00", 5)]})
    assert status == 200
    before = await snapshot(app)
    status, answer = await post(
        client, key, {"events": [event("b", "2026-01-18T09:00:00+07:00", 4)]}
    )
    assert status == 422
    [problem] = answer["problems"]
    assert problem["field"] == "at"
    assert "event 'b'" in problem["message"]
    assert "before the dossier's previous event" in problem["message"]
    assert await snapshot(app) == before


async def test_nothing_follows_an_end_and_a_received_dossier_is_not_refused_at_the_desk(
    client: TestClient, key: str, app: App
) -> None:
    status, answer = await post(
        client, key, {"events": [event("refuse", "2026-01-19T09:00:00+07:00", 3)]}
    )
    assert status == 422
    assert "cannot be refused at the desk" in answer["problems"][0]["message"]
    status, _ = await post(client, key, {"events": [event("stop", "2026-01-19T09:00:00+07:00", 8)]})
    assert status == 200
    status, answer = await post(
        client, key, {"events": [event("again", "2026-01-20T09:00:00+07:00", 4)]}
    )
    assert status == 422
    assert "already ended with status 8 (Dừng xử lý)" in answer["problems"][0]["message"]


async def test_late_but_consistent_events_are_accepted(
    client: TestClient, key: str, app: App
) -> None:
    # Posted weeks after they happened, out of order in the list, but consistent in time:
    # supplement asked 16/01, supplied 19/01, result 21/01, handed over 22/01.
    body = {
        "events": [
            event("e3", "2026-01-21T16:00:00+07:00", 9),
            event("e1", "2026-01-16T10:00:00+07:00", 5, note="Thiếu bản sao"),
            event("e4", "2026-01-22T08:00:00+07:00", 10),
            event("e2", "2026-01-19T09:00:00+07:00", 4),
        ]
    }
    status, answer = await post(client, key, body)
    assert status == 200, answer
    assert answer["result"]["events_applied"] == 4
    async with app.sessions() as s:
        row = await repo.dossier_by_code(s, CODE)
        pauses = [(p.requested_date, p.resumed_date) for p in await s.scalars(select(DossierPause))]
    assert row is not None and row.status == 10
    assert (row.finished_date, row.returned_date) == (date(2026, 1, 21), date(2026, 1, 22))
    assert pauses == [(date(2026, 1, 16), date(2026, 1, 19))]
    # A redelivery of the same batch is accepted and changes nothing, although its events
    # are now older than the dossier's latest.
    status, answer = await post(client, key, body)
    assert status == 200 and answer["result"]["events_duplicate"] == 4


async def test_a_withdrawal_after_receipt_ends_processing_on_its_day(
    client: TestClient, key: str, app: App
) -> None:
    status, _ = await post(client, key, {"events": [event("w", "2026-01-20T09:00:00+07:00", 7)]})
    assert status == 200
    async with app.sessions() as s:
        row = await repo.dossier_by_code(s, CODE)
    assert row is not None and row.finished_date == date(2026, 1, 20)
