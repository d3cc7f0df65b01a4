"""The README's first steps, on a fresh database: import the sample agencies and procedures,
create an API key, post a dossier and an event, read its status in the chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.domain import registry_import as ri
from bot.server import make_web_app
from storage.repositories import apikeys
from storage.repositories import dossiers as repo

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CODE = "000.00.12.H13-251103-0001"
#: The body the README posts, byte for byte in meaning.
BODY: dict[str, Any] = {
    "dossiers": [
        {
            "code": CODE,
            "procedure_code": "HT.KS",
            "receiving_agency": "000.00.12.H13",
            "owner_name": "Nguyễn Văn An",
            "owner_id_number": "079123456789",
            "received_date": "2025-11-03",
            "due_date": "2025-11-04",
            "status": 2,
        }
    ],
    "events": [
        {"id": "ev-1", "dossier_code": CODE, "at": "2025-11-03T14:00:00+07:00", "status": 4}
    ],
}


async def test_the_first_steps_of_the_readme(app: App) -> None:
    async with app.sessions() as s, s.begin():
        for kind, name in (
            (ri.Kind.AGENCIES, "agencies.csv"),
            (ri.Kind.PROCEDURES, "procedures.csv"),
        ):
            plan = await ri.import_file(s, kind, name, (SAMPLES / name).read_bytes())
            assert plan.saved, plan.problems
    async with app.sessions() as s, s.begin():
        city = await repo.agency_by_code(s, "000.00.00.H13")
        assert city is not None
        _, key = await apikeys.create(s, name="one-stop", agency=city)
    async with TestClient(TestServer(make_web_app(app))) as client:
        resp = await client.post(
            "/api/v1/dossiers", json=BODY, headers={"Authorization": f"Bearer {key}"}
        )
        answer = await resp.json()
        assert resp.status == 200, answer
        assert answer["result"]["created"] == 1 and answer["result"]["events_applied"] == 1
        resp = await client.post("/api/chat", json={"text": CODE})
        first = await resp.json()
        resp = await client.post(
            "/api/chat", json={"session": first["session"], "text": "079123456789"}
        )
        reply = "\n".join(r["text"] for r in (await resp.json())["replies"])
    assert "Đăng ký khai sinh" in reply
    assert "Đang xử lý" in reply
    assert "UBND phường Ninh Kiều" in reply
