"""Hardening of the web rate limit (issue 14, M2): by client address as well as by session,
no session created for a refused request, and one limit shared by every worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import App
from bot.ratelimit import client_address, parse_networks
from bot.server import make_web_app
from storage.models import WebSession
from tests.conftest import make_settings


async def away_from_the_window_edge() -> None:
    """The limits count per minute: start a burst early in a minute so it fits in one."""
    if time.time() % 60 > 50:
        await asyncio.sleep(60 - time.time() % 60 + 0.1)


@asynccontextmanager
async def worker(
    database_url: str, tmp_path: Path, **overrides: object
) -> AsyncIterator[tuple[App, TestClient]]:  # type: ignore[type-arg]
    """One worker (its own App, engine and HTTP server) on the shared database."""
    (tmp_path / "kb").mkdir(exist_ok=True)
    app = App.build(make_settings(database_url, tmp_path, kb_dir=tmp_path / "kb", **overrides))
    await app.start(migrate_db=False, watch=False)
    try:
        async with TestClient(TestServer(make_web_app(app))) as client:
            yield app, client
    finally:
        await app.close()


async def sessions(app: App) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(WebSession)) or 0)


async def test_leaving_out_the_session_does_not_bypass_the_limit(
    database_url: str, tmp_path: Path
) -> None:
    async with worker(database_url, tmp_path, web_rate_limit_per_address_per_minute=10) as (
        app,
        client,
    ):
        await away_from_the_window_edge()
        statuses = []
        for _ in range(15):
            resp = await client.post("/api/chat", json={"text": "/menu"})
            statuses.append(resp.status)
            if resp.status == 429:
                assert int(resp.headers["Retry-After"]) >= 1
                assert "chờ" in (await resp.json())["error"]
        assert statuses == [200] * 10 + [429] * 5
        assert await sessions(app) == 10  # refused requests created no session


async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    database_url: str, tmp_path: Path
) -> None:
    async def burst(client: TestClient, n: int, forwarded: bool) -> list[int]:  # type: ignore[type-arg]
        out = []
        for i in range(n):
            headers = {"X-Forwarded-For": f"203.0.113.{i}"} if forwarded else {}
            resp = await client.post("/api/chat", json={"text": "/menu"}, headers=headers)
            out.append(resp.status)
        return out

    await away_from_the_window_edge()
    async with worker(database_url, tmp_path, web_rate_limit_per_address_per_minute=3) as (
        _,
        client,
    ):
        # A made-up X-Forwarded-For from an untrusted peer changes nothing.
        assert await burst(client, 5, forwarded=True) == [200] * 3 + [429] * 2
    async with worker(
        database_url, tmp_path, web_rate_limit_per_address_per_minute=3, trusted_proxies="127.0.0.1"
    ) as (_, client):
        # Behind a trusted proxy each client has its own budget.
        assert await burst(client, 5, forwarded=True) == [200] * 5


def test_the_client_address_is_read_right_to_left_past_trusted_proxies() -> None:
    trusted = parse_networks("127.0.0.1, 10.0.0.0/8")
    assert client_address("198.51.100.7", "1.2.3.4", trusted) == "198.51.100.7"
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3", trusted) == (
        "198.51.100.7"
    )
    assert client_address("127.0.0.1", "", trusted) == "127.0.0.1"
    assert client_address("198.51.100.7", "1.2.3.4", ()) == "198.51.100.7"


async def test_the_web_limits_hold_across_two_workers(database_url: str, tmp_path: Path) -> None:
    """Two workers on one database allow the rate once, not twice."""
    async with (
        worker(
            database_url,
            tmp_path,
            web_rate_limit_per_address_per_minute=8,
            web_rate_limit_per_minute=5,
        ) as (first, a),
        worker(
            database_url,
            tmp_path,
            web_rate_limit_per_address_per_minute=8,
            web_rate_limit_per_minute=5,
        ) as (_, b),
    ):
        await away_from_the_window_edge()
        # One session, its messages spread over both workers: 5 a minute in all.
        token = (await (await a.post("/api/chat", json={"text": "/menu"})).json())["session"]
        statuses = [
            (
                await (a if i % 2 else b).post(
                    "/api/chat", json={"session": token, "text": "/menu"}
                )
            ).status
            for i in range(6)
        ]
        assert statuses == [200] * 4 + [429] * 2
        # Without a session, one address over both workers: 8 a minute in all (7 used so far).
        statuses = [
            (await (a if i % 2 else b).post("/api/chat", json={"text": "/menu"})).status
            for i in range(4)
        ]
        assert statuses == [200] + [429] * 3
        assert await sessions(first) == 2


def test_counter_keys_are_remembered_per_secret_and_limit() -> None:
    """The counter's row key is the keyed hash (remembered, not recomputed on every hit), and
    it depends on the secret and on the limit's name."""
    from bot.domain.privacy import keyed_hash
    from bot.ratelimit import _counter_key

    key = _counter_key(b"secret-one", "web", "1.2.3.4")
    assert key == f"web:{keyed_hash(b'secret-one', 'rate', 'web', '1.2.3.4')[:48]}"
    assert _counter_key(b"secret-one", "web", "1.2.3.4") is key
    assert _counter_key(b"secret-two", "web", "1.2.3.4") != key
    assert _counter_key(b"secret-one", "web-address", "1.2.3.4") != key
