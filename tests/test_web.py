"""The web chat API and the operational endpoints, over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import App
from bot.ratelimit import SharedRateLimiter
from bot.server import make_web_app
from storage.models import MessageLog, WebSession
from tests.conftest import make_settings


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(app))) as c:
        yield c


async def chat(client: TestClient, **body: object) -> dict:  # type: ignore[type-arg]
    resp = await client.post("/api/chat", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


async def test_the_page_is_served_in_vietnamese_without_external_resources(
    client: TestClient,
) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    html = await resp.text()
    assert 'lang="vi"' in html
    assert 'name="viewport"' in html
    assert "http://" not in html
    assert "https://" not in html


async def test_a_conversation_over_http(client: TestClient, app: App) -> None:
    first = await chat(client, text="/start")
    session = first["session"]
    assert len(session) >= 32
    assert "Xin chào" in first["replies"][0]["text"]
    answer = await chat(client, session=session, text="ho so tctn gom nhung gi")
    assert answer["session"] == session
    assert "Mẫu số 10" in answer["replies"][0]["text"]
    helpful = answer["replies"][-1]["choices"][0]["value"]
    thanks = await chat(client, session=session, choice=helpful)
    assert thanks["replies"][0]["text"] == "Cảm ơn bạn đã phản hồi!"
    async with app.sessions() as s:
        stored = await s.scalars(select(WebSession.token_hash))
        assert session not in list(stored)  # only a hash of the token is kept


async def test_an_unknown_session_starts_a_new_conversation(client: TestClient) -> None:
    reply = await chat(client, session="made-up-session-token-0123456789", text="/start")
    assert reply["session"] != "made-up-session-token-0123456789"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "JSON"),
        (b"[1, 2]", 400, "đối tượng"),
        (b"{}", 400, "Thiếu trường"),
        (b'{"session": "x"}', 400, "Thiếu trường"),
        (b'{"text": 42}', 400, '"text"'),
        (b'{"choice": ["a"]}', 400, '"choice"'),
        (b'{"session": 1, "text": "hi"}', 400, '"session"'),
        (b"\xff\xfe\x00", 400, "JSON"),
    ],
)
async def test_bad_requests_get_json_errors(
    client: TestClient, body: bytes, status: int, fragment: str
) -> None:
    resp = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == status
    assert fragment in (await resp.json())["error"]


async def test_oversized_messages_and_bodies_are_refused(client: TestClient, app: App) -> None:
    resp = await client.post("/api/chat", json={"text": "á" * 2001})
    assert resp.status == 413
    assert "2000" in (await resp.json())["error"]
    resp = await client.post("/api/chat", data=b'{"text": "' + b"a" * 100_000 + b'"}')
    assert resp.status == 413
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MessageLog)) == 0


async def test_a_session_sending_too_fast_gets_429(database_url: str, tmp_path: Path) -> None:
    app = App.build(make_settings(database_url, tmp_path, web_rate_limit_per_minute=3))
    await app.start(migrate_db=False, watch=False)
    try:
        async with TestClient(TestServer(make_web_app(app))) as client:
            session = (await chat(client, text="/start"))["session"]
            for _ in range(2):
                await chat(client, session=session, text="/menu")
            resp = await client.post("/api/chat", json={"session": session, "text": "/menu"})
            assert resp.status == 429
            assert int(resp.headers["Retry-After"]) >= 1
            assert "chờ" in (await resp.json())["error"]
            # another session is not affected
            assert (await client.post("/api/chat", json={"text": "/start"})).status == 200
    finally:
        await app.close()


async def test_the_shared_rate_limiter_counts_per_fixed_window(app: App) -> None:
    now = [120.0]
    limiter = SharedRateLimiter(
        app.sessions, secret=b"k" * 32, name="test", limit=2, clock=lambda: now[0]
    )
    assert await limiter.hit("a") == 0
    now[0] = 121
    assert await limiter.hit("a") == 0
    now[0] = 122
    assert await limiter.hit("a") == pytest.approx(58)
    assert await limiter.hit("b") == 0  # another key has its own budget
    now[0] = 180
    assert await limiter.hit("a") == 0


@pytest.mark.commits  # the health probe writes on a connection of its own
async def test_health_and_metrics(client: TestClient) -> None:
    resp = await client.get("/healthz")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "ok"
    assert body["kb_entries"] >= 250
    await chat(client, text="lệ phí đăng ký tạm trú")
    metrics = await (await client.get("/metrics")).text()
    assert 'motcua_messages_total{channel="web"' in metrics
    assert "motcua_handling_seconds_bucket" in metrics


async def test_health_reports_a_database_that_went_away(tmp_path: Path) -> None:
    app = App.build(make_settings(f"sqlite+aiosqlite:///{tmp_path}/gone/../x.db", tmp_path))
    await app.start(migrate_db=True, watch=False)
    try:
        async with TestClient(TestServer(make_web_app(app))) as client:
            assert (await client.get("/healthz")).status == 200
            # The database file's directory disappears: the next connection fails.
            await app.engine.dispose()
            (tmp_path / "x.db").unlink()
            (tmp_path / "x.db").mkdir()
            resp = await client.get("/healthz")
            assert resp.status == 503
            assert (await resp.json())["database"] == "unreachable"
            resp = await client.post("/api/chat", json={"text": "xin chào"})
            assert resp.status == 503
            assert "thử lại" in (await resp.json())["error"]
    finally:
        await app.close()
