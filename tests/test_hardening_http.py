"""Hardening of the HTTP edges (issue 14): bodies read whole, bounded JSON, JSON errors,
page headers, tokens out of URLs, ingest answers that leak nothing across agencies."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.app import App
from bot.server import make_web_app
from storage.models import Dossier, DossierEvent, MessageLog, WebSession
from storage.repositories import apikeys
from storage.repositories import dossiers as repo
from tests.dossier_fixtures import CODE, build_city
from tests.test_ingest import dossier

INGEST = "/api/v1/dossiers"


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(app))) as c:
        yield c


@pytest.fixture
async def keys(app: App) -> dict[str, str]:
    await build_city(app)
    async with app.sessions() as s, s.begin():
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        other = await repo.agency_by_code(s, "000.00.13.H13")
        assert ward is not None and other is not None
        _, ward_key = await apikeys.create(s, name="ninh-kieu", agency=ward)
        _, other_key = await apikeys.create(s, name="cai-khe", agency=other)
    return {"ward": ward_key, "other": other_key}


async def raw_post(
    client: TestClient,  # type: ignore[type-arg]
    path: str,
    chunks: list[bytes],
    *,
    headers: dict[str, str] | None = None,
    chunked: bool = False,
    pause: float = 0.15,
) -> tuple[int, dict[str, Any]]:
    """POST over a raw socket, the body in several writes with pauses between them."""
    host, port = client.server.host, client.server.port
    assert port is not None
    reader, writer = await asyncio.open_connection(host, port)
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    head += ["Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    else:
        head.append(f"Content-Length: {sum(len(c) for c in chunks)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        for chunk in chunks:
            await asyncio.sleep(pause)
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass  # the server may answer 413 and close before the whole body is sent
    response = await reader.read()
    writer.close()
    status_line, _, rest = response.partition(b"\r\n")
    _, _, body = rest.partition(b"\r\n\r\n")
    if b"chunked" in rest.partition(b"\r\n\r\n")[0].lower():
        body = _unchunk(body)
    return int(status_line.split()[1]), json.loads(body or b"{}")


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def split(data: bytes, parts: int) -> list[bytes]:
    step = len(data) // parts + 1
    return [data[i : i + step] for i in range(0, len(data), step)]


# ------------------------------------------------------------------ H1


async def test_a_chat_body_arriving_in_several_packets_is_read_whole(client: TestClient) -> None:
    body = json.dumps({"text": "cho em hỏi làm trợ cấp thất nghiệp cần giấy tờ gì ạ"}).encode()
    for chunked in (False, True):
        status, answer = await raw_post(client, "/api/chat", split(body, 4), chunked=chunked)
        assert status == 200, answer
        assert answer["replies"]


async def test_a_large_ingest_batch_in_several_packets_is_read_whole(
    client: TestClient, keys: dict[str, str], app: App
) -> None:
    events = [
        {
            "id": f"evt-{i}",
            "dossier_code": CODE,
            "at": f"2026-01-16T{8 + i // 3600 % 10:02d}:{i // 60 % 60:02d}:{i % 60:02d}+07:00",
            "status": 4,
            "note": "x" * 40,
        }
        for i in range(1000)
    ]
    body = json.dumps({"events": events}).encode()
    assert len(body) > 100_000
    status, answer = await raw_post(
        client,
        INGEST,
        split(body, 6),
        headers={"Authorization": f"Bearer {keys['ward']}"},
        pause=0.05,
    )
    assert status == 200, answer
    assert answer["result"]["events_applied"] + answer["result"]["events_duplicate"] == 1000


async def test_bodies_over_the_limit_get_413_json(client: TestClient, keys: dict[str, str]) -> None:
    big_chat = json.dumps({"text": "a" * 20_000}).encode()
    for chunked in (False, True):
        status, answer = await raw_post(client, "/api/chat", split(big_chat, 3), chunked=chunked)
        assert status == 413 and answer["error"] == "Yêu cầu quá lớn."
    big_ingest = b'{"dossiers": [' + b" " * (5 * 1024 * 1024) + b"]}"
    auth = {"Authorization": f"Bearer {keys['ward']}"}
    status, answer = await raw_post(
        client, INGEST, split(big_ingest, 8), headers=auth, chunked=True, pause=0.01
    )
    assert status == 413 and "5 MB" in answer["error"]
    status, answer = await raw_post(client, INGEST, [big_ingest], headers=auth, pause=0)
    assert status == 413


# ------------------------------------------------------------------ L1, L2


async def test_ingest_checks_the_key_before_parsing_the_body(client: TestClient) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    resp = await client.post(INGEST, data=deep, headers={"Authorization": "Bearer mc_nope"})
    assert resp.status == 401
    assert "unknown or revoked" in (await resp.json())["error"]


async def test_deeply_nested_json_gets_400_json(client: TestClient, keys: dict[str, str]) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    resp = await client.post(INGEST, data=deep, headers={"Authorization": f"Bearer {keys['ward']}"})
    assert resp.status == 400
    assert "nested too deep" in (await resp.json())["error"]
    nested: Any = "x"
    for _ in range(40):
        nested = {"a": nested}
    resp = await client.post(
        INGEST,
        data=json.dumps({"dossiers": [nested]}),
        headers={"Authorization": f"Bearer {keys['ward']}"},
    )
    assert resp.status == 400
    resp = await client.post("/api/chat", data=b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert resp.status == 400 and "JSON" in (await resp.json())["error"]


async def test_a_lone_surrogate_in_chat_text_gets_400_and_no_traceback(
    client: TestClient, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    resp = await client.post("/api/chat", data=b'{"text": "xin ch\\ud800o"}')
    assert resp.status == 400
    assert "JSON" in (await resp.json())["error"]
    assert not [r for r in caplog.records if r.exc_info]
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MessageLog)) == 0
        assert await s.scalar(select(func.count()).select_from(WebSession)) == 0


# ------------------------------------------------------------------ L8


async def test_the_page_sends_security_headers(client: TestClient) -> None:
    resp = await client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "script-src 'sha256-" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    html = await resp.text()
    assert "updates?session" not in html and "X-Session-Token" in html


async def test_the_updates_token_travels_in_a_header_not_the_url(client: TestClient) -> None:
    first = await (await client.post("/api/chat", json={"text": "/start"})).json()
    token = first["session"]
    in_url = await client.get("/api/chat/updates", params={"session": token})
    assert in_url.status == 401
    in_header = await client.get("/api/chat/updates", headers={"X-Session-Token": token})
    assert in_header.status == 200
    assert (await in_header.json())["replies"] == []


# ------------------------------------------------------------------ L9, M4


async def test_an_api_key_cannot_tell_another_agencys_dossier_from_a_missing_one(
    client: TestClient, keys: dict[str, str]
) -> None:
    def event(code: str) -> dict[str, Any]:
        return {"id": "probe", "dossier_code": code, "at": "2026-01-20T08:00:00", "status": 4}

    auth = {"Authorization": f"Bearer {keys['other']}"}
    existing = await client.post(INGEST, json={"events": [event(CODE)]}, headers=auth)
    missing_code = "000.00.12.H13-260115-0999"
    missing = await client.post(INGEST, json={"events": [event(missing_code)]}, headers=auth)
    assert existing.status == missing.status == 422
    assert await existing.json() == await missing.json()


async def test_event_ids_of_different_agencies_do_not_collide(
    client: TestClient, keys: dict[str, str], app: App
) -> None:
    other_code = "000.00.13.H13-260116-0001"
    auth_other = {"Authorization": f"Bearer {keys['other']}"}
    resp = await client.post(
        INGEST, json={"dossiers": [dossier(other_code, agency="000.00.13.H13")]}, headers=auth_other
    )
    assert resp.status == 200, await resp.text()
    for key, code in ((keys["ward"], CODE), (keys["other"], other_code)):
        resp = await client.post(
            INGEST,
            json={
                "events": [
                    {"id": "EVT-1", "dossier_code": code, "at": "2026-01-20T08:00:00", "status": 6}
                ]
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert resp.status == 200
        assert (await resp.json())["result"]["events_applied"] == 1
    async with app.sessions() as s:
        for code in (CODE, other_code):
            row = await repo.dossier_by_code(s, code)
            assert row is not None and row.status == 6
        assert await s.scalar(select(func.count()).select_from(DossierEvent)) >= 2
        assert await s.scalar(select(func.count()).select_from(Dossier)) == 2


# ------------------------------------------------------------------ L10


async def test_unexpected_api_errors_are_json_500_with_a_request_id(app: App) -> None:
    web_app = make_web_app(app)

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    web_app.router.add_get("/api/broken", broken)
    async with TestClient(TestServer(web_app)) as c:
        resp = await c.get("/api/broken", headers={"X-Request-Id": "req-42"})
        assert resp.status == 500
        assert resp.headers["Content-Type"].startswith("application/json")
        body = await resp.json()
        assert body["request_id"] == "req-42" and "lỗi" in body["error"]
        resp = await c.get("/api/broken")
        assert (await resp.json())["request_id"] == resp.headers["X-Request-Id"]


# ------------------------------------------------------------------ L4


def read_only_engine(url: str) -> AsyncEngine:
    """An engine on the same database that cannot write (SQLite mode=ro, PostgreSQL
    default_transaction_read_only): what a read-only disk or a standby gives."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        return create_async_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    return create_async_engine(
        url, connect_args={"server_settings": {"default_transaction_read_only": "on"}}
    )


@pytest.mark.commits  # the health probe writes on a connection of its own
async def test_health_reports_a_read_only_database_and_readiness_is_separate(
    client: TestClient, app: App
) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    writable = app.engine
    app.engine = read_only_engine(app.settings.database_url)
    try:
        resp = await client.get("/healthz")
        assert resp.status == 503 and (await resp.json())["status"] == "unavailable"
        assert (await client.get("/readyz")).status == 503
        assert (await client.get("/livez")).status == 200  # alive: do not restart it
    finally:
        await app.engine.dispose()
        app.engine = writable
    app.stopping = True
    assert (await client.get("/readyz")).status == 503
    assert (await client.get("/livez")).status == 200
    app.stopping = False


async def test_a_lone_surrogate_from_another_channel_is_answered_not_a_traceback(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.messages import Channel, ChatRef, Incoming
    from handlers import texts

    caplog.set_level(logging.ERROR)
    chat = ChatRef(Channel.ZALO_OA, "6142494823000000001", "6142494823000000001")
    replies = await app.dispatcher.handle(Incoming(chat, "z1", text="lệ phí tạm trú\ud800"))
    assert replies and replies[0].text != texts.APOLOGY
    assert not [r for r in caplog.records if r.exc_info]
