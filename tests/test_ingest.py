"""The ingest API and file import: authentication, scope, idempotency, bad input losing nothing."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.app import App
from bot.server import make_web_app
from storage.models import Dossier, DossierEvent, DossierPause
from storage.repositories import apikeys
from storage.repositories import dossiers as repo
from tests import cli_runner
from tests.dossier_fixtures import CODE, build_city

PATH = "/api/v1/dossiers"


def dossier(code: str, agency: str = "000.00.12.H13", **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "procedure_code": "1.001193",
        "receiving_agency": agency,
        "owner_name": "Trần Thị Bích",
        "owner_id_number": "079111222333",
        "received_date": "2026-01-16",
        "due_date": "2026-01-23",
        "status": 2,
        **extra,
    }


@pytest.fixture
async def keys(app: App) -> dict[str, str]:
    await build_city(app)
    async with app.sessions() as s, s.begin():
        city = await repo.agency_by_code(s, "000.00.00.H13")
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        assert city is not None and ward is not None
        _, city_key = await apikeys.create(s, name="city", agency=city)
        revoked, revoked_key = await apikeys.create(s, name="old", agency=city)
        _, ward_key = await apikeys.create(s, name="ninh-kieu", agency=ward)
        await apikeys.revoke(s, revoked.id)
    return {"city": city_key, "ward": ward_key, "revoked": revoked_key}


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(app))) as c:
        yield c


async def post(client: TestClient, key: str | None, body: object) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    resp = await client.post(PATH, json=body, headers=headers)
    return resp.status, await resp.json()


async def count(app: App, model: type) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_keys_are_required_and_checked(
    client: TestClient, keys: dict[str, str], app: App
) -> None:
    body = {"dossiers": [dossier("000.00.12.H13-260116-0001")]}
    status, answer = await post(client, None, body)
    assert status == 401 and "bearer" in answer["error"]
    resp = await client.post(PATH, json=body, headers={"Authorization": "Basic abc"})
    assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    for key in ("mc_not-a-real-key", keys["revoked"]):
        status, answer = await post(client, key, body)
        assert status == 401 and "unknown or revoked" in answer["error"]
    assert await count(app, Dossier) == 1  # only the fixture's


async def test_a_batch_is_saved_and_reported(
    client: TestClient, keys: dict[str, str], app: App
) -> None:
    status, answer = await post(
        client,
        keys["ward"],
        {"dossiers": [dossier("000.00.12.H13-260116-0001"), dossier("000.00.12.H13-260116-0002")]},
    )
    assert status == 200, answer
    assert answer["result"]["created"] == 2
    async with app.sessions() as s:
        row = await repo.dossier_by_code(s, "000.00.12.H13-260116-0002")
    assert row is not None and row.owner_name_masked == "Trần T. B."
    assert row.owner_id_hmac and "079111222333" not in row.owner_id_hmac


async def test_a_key_cannot_write_outside_its_agencies(
    client: TestClient, keys: dict[str, str], app: App
) -> None:
    body = {
        "dossiers": [
            dossier("000.00.13.H13-260116-0001", agency="000.00.13.H13"),
            dossier("000.00.12.H13-260116-0003"),
        ]
    }
    status, answer = await post(client, keys["ward"], body)
    assert status == 403
    assert answer["problems"] == [
        {
            "item": "dossiers[0]",
            "field": "receiving_agency",
            "message": "outside this key's agencies",
        }
    ]
    assert await count(app, Dossier) == 1  # nothing, not even the valid second item
    status, _ = await post(client, keys["city"], body)  # the city's key covers both wards
    assert status == 200
    assert await count(app, Dossier) == 3


async def test_bad_items_are_all_reported_and_nothing_is_lost(
    client: TestClient, keys: dict[str, str], app: App
) -> None:
    body = {
        "dossiers": [
            dossier("000.00.12.H13-260116-0004"),
            dossier("000.00.12.H13-261340-0001"),  # no 40th of the 13th month
            dossier("000.00.12.H13-260116-0005", owner_phone="123", status=11),
            dossier("000.00.12.H13-260116-0006", procedure_code="9.999"),
        ],
        "events": [
            {
                "id": "x",
                "dossier_code": "000.00.12.H13-260116-0099",
                "at": "2026-01-20T08:00:00",
                "status": 4,
            }
        ],
    }
    status, answer = await post(client, keys["ward"], body)
    assert status == 422
    fields = {(p["item"], p["field"]) for p in answer["problems"]}
    assert ("dossiers[1]", "code") in fields
    assert ("dossiers[2]", "owner_phone") in fields and ("dossiers[2]", "status") in fields
    status, answer = await post(
        client,
        keys["ward"],
        {"dossiers": [body["dossiers"][0], body["dossiers"][3]], "events": body["events"]},
    )
    assert status == 422
    assert {(p["item"], p["field"]) for p in answer["problems"]} == {
        ("dossiers[1]", "procedure_code"),
        ("events[0]", "dossier_code"),
    }
    assert await count(app, Dossier) == 1
    async with app.sessions() as s:
        before = await repo.dossier_by_code(s, CODE)
    assert before is not None and before.status == 4  # the valid dossier from before is intact


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b"{not json", 400), (b'"a string"', 422), (b"{}", 422), (b'{"dossiers": 5}', 422)],
)
async def test_malformed_bodies(
    client: TestClient, keys: dict[str, str], raw: bytes, status: int
) -> None:
    resp = await client.post(PATH, data=raw, headers={"Authorization": f"Bearer {keys['city']}"})
    assert resp.status == status
    assert "error" in await resp.json()


async def test_an_event_sent_twice_changes_nothing_the_second_time(
    client: TestClient, keys: dict[str, str], app: App
) -> None:
    supplement = {
        "id": "evt-7",
        "dossier_code": CODE,
        "at": "2026-01-16T10:00:00+07:00",
        "status": 5,
        "note": "Thiếu bản sao giấy chứng sinh",
    }
    resumed = {"id": "evt-8", "dossier_code": CODE, "at": "2026-01-21T10:00:00+07:00", "status": 4}
    status, answer = await post(client, keys["ward"], {"events": [supplement, resumed]})
    assert status == 200 and answer["result"]["events_applied"] == 2
    status, answer = await post(client, keys["ward"], {"events": [supplement, resumed]})
    assert answer["result"] == {**answer["result"], "events_applied": 0, "events_duplicate": 2}
    async with app.sessions() as s:
        row = await repo.dossier_by_code(s, CODE)
        pauses = list(await s.scalars(select(DossierPause)))
    assert row is not None and row.status == 4 and row.supplement_count == 1
    assert [(p.requested_date, p.resumed_date) for p in pauses] == [
        (date(2026, 1, 16), date(2026, 1, 21))
    ]
    assert await count(app, DossierEvent) == 2


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    import os

    # In this process (tests/cli_runner.py): the same arguments, environment and directory.
    return cli_runner.run(*args, cwd=cwd, env={**os.environ, **env})


def test_dossier_files_good_and_bad(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/d.db",
        "SECRET_KEY": "files-test-key-0123456789abcdef012345",
    }
    demo = run_cli("demo", "--count", "50", env=env, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    again = run_cli("demo", "--count", "50", env=env, cwd=tmp_path)
    assert again.returncode == 1 and "only an empty one" in again.stderr
    good = tmp_path / "good.csv"
    good.write_text(
        "code,procedure_code,receiving_agency,owner_name,owner_phone,received_date,due_date,status\n"
        "000.00.12.H13-260201-0001,DEMO.KS,000.00.12.H13,Lê Văn Tám,0912000111,"
        "02/02/2026,03/02/2026,4\n",
        encoding="utf-8",
    )
    out = run_cli("dossiers", "import", str(good), "--dry-run", env=env, cwd=tmp_path)
    assert out.returncode == 0 and "Would import 1 dossiers: 1 new" in out.stdout
    out = run_cli("dossiers", "import", str(good), env=env, cwd=tmp_path)
    assert "Imported 1 dossiers: 1 new" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,procedure_code,receiving_agency,received_date,status\n"
        "000.00.12.H13-260201-0002,DEMO.KS,000.00.12.H13,31/02/2026,4\n"
        "000.00.12.H13-260201-0003,NOPE,000.00.99.H13,2026-02-02,4\n",
        encoding="utf-8",
    )
    out = run_cli("dossiers", "import", str(bad), env=env, cwd=tmp_path)
    assert out.returncode == 1 and "nothing was imported" in out.stderr
    assert "row 2 [received_date]" in out.stderr
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "procedure_code", "receiving_agency", "received_date", "status"])
    ws.append(["000.00.12.H13-260203-0001", "DEMO.KS", "000.00.12.H13", date(2026, 2, 3), 2])
    wb.save(tmp_path / "good.xlsx")
    out = run_cli("dossiers", "import", str(tmp_path / "good.xlsx"), env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    out = run_cli(
        "apikeys", "create", "one-stop", "--agency", "000.00.00.H13", env=env, cwd=tmp_path
    )
    assert out.returncode == 0 and "mc_" in out.stdout
    out = run_cli("apikeys", "create", "x", "--agency", "000.99.99.H13", env=env, cwd=tmp_path)
    assert out.returncode == 1 and "Unknown agency" in out.stderr
