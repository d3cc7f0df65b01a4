"""Web chat messages under concurrency, group-committed on SQLite (storage/group_commit.py):
every message handled once, in order per session, and nothing shown that a SIGKILL can undo."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import App
from bot.channels.web_history import KEEP_ITEMS
from bot.server import make_web_app
from storage.models import MessageLog
from storage.models.web import WebHistoryItem

QUESTIONS = [
    "hồ sơ trợ cấp thất nghiệp gồm những gì",
    "lệ phí đăng ký tạm trú bao nhiêu",
    "làm lại căn cước bị mất ở đâu",
    "đăng ký khai sinh cho con cần giấy tờ gì",
    "lý lịch tư pháp bao lâu thì có",
]
ROOT = Path(__file__).resolve().parent.parent


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(app))) as c:
        yield c


@pytest.mark.commits  # concurrent sessions on one database: real commits
async def test_concurrent_sessions_each_message_once_and_in_order(
    client: TestClient,  # type: ignore[type-arg]
    app: App,
) -> None:
    sessions, messages = 12, 5

    async def conversation(n: int) -> tuple[str, list[str]]:
        token: str | None = None
        sent = []
        for m in range(messages):
            text = QUESTIONS[(n + m) % len(QUESTIONS)]
            body = {"text": text, **({"session": token} if token else {})}
            resp = await client.post("/api/chat", json=body)
            assert resp.status == 200, await resp.text()
            data = await resp.json()
            assert data["replies"] and data["replies"][0]["text"]
            token = data["session"]
            sent.append(text)
        assert token is not None
        return token, sent

    results = await asyncio.gather(*(conversation(n) for n in range(sessions)))
    async with app.sessions() as db:
        logged = await db.scalar(select(func.count()).select_from(MessageLog))
        assert logged == sessions * messages  # each question logged once
        for token, sent in results:
            users = await db.scalars(
                select(WebHistoryItem.payload)
                .where(WebHistoryItem.session_hash == _digest(token), WebHistoryItem.role == "user")
                .order_by(WebHistoryItem.id)
            )
            assert [p["text"] for p in users] == sent  # once each, in the order sent
    group = app.dispatcher.group_commit
    if app.settings.is_sqlite:
        assert group is not None
        assert group.stats.largest > 1  # messages did share commits
    else:
        assert group is None  # PostgreSQL: a transaction a message, row locks per chat


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _drive(url: str, sessions: int, stop: asyncio.Event) -> list[tuple[str, list[str]]]:
    """Sessions that send questions one after another until the server dies; what each sent
    and saw answered."""
    out: list[tuple[str, list[str]]] = []

    async def one(n: int, http: aiohttp.ClientSession) -> None:
        token = ""
        answered: list[str] = []
        m = 0
        try:
            while not stop.is_set():
                text = QUESTIONS[(n + m) % len(QUESTIONS)]
                m += 1
                body = {"text": text, **({"session": token} if token else {})}
                async with http.post(url + "/api/chat", json=body) as resp:
                    data = await resp.json()
                    assert resp.status == 200, data
                token = data["session"]
                answered.append(text)
        except (TimeoutError, aiohttp.ClientError):
            pass  # the server was killed under this request
        finally:
            if token:
                out.append((token, answered))

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        await asyncio.gather(*(one(n, http) for n in range(sessions)))
    return out


def test_sigkill_under_load_loses_no_answered_message_and_doubles_none(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "kill.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "SECRET_KEY": "group-commit-kill-test-key-0123456789",
        "PORT": str(port),
        "WEB_RATE_LIMIT_PER_MINUTE": "100000",
        "WEB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "100000",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    async def scenario() -> list[tuple[str, list[str]]]:
        deadline = time.monotonic() + 90
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(url + "/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                await asyncio.sleep(0.2)
        stop = asyncio.Event()
        load = asyncio.create_task(_drive(url, 20, stop))
        await asyncio.sleep(2.0)  # under load, batches committing ...
        proc.send_signal(signal.SIGKILL)  # ... killed in the middle of one
        stop.set()
        return await load

    try:
        results = asyncio.run(scenario())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert sum(len(answered) for _, answered in results) > 40, "too little load to mean much"
    conn = sqlite3.connect(db)  # the WAL is replayed on open, as by the next start
    try:
        for token, answered in results:
            stored = [
                json.loads(payload)["text"]
                for (payload,) in conn.execute(
                    "SELECT payload FROM web_history WHERE session_hash = ? AND role = 'user'"
                    " ORDER BY id",
                    (_digest(token),),
                )
            ]
            # Every answered message is stored, once, in order; at most the one message in
            # flight at the kill was stored without its answer reaching the client. A fast
            # server answers more than the history keeps (``KEEP_ITEMS``, oldest dropped):
            # what is kept is then the end of what was answered.
            in_flight = len(stored) > 0 and (not answered or stored[-1] != answered[-1])
            kept = stored[:-1] if in_flight else stored
            assert kept == answered[len(answered) - len(kept) :]
            if len(answered) > len(kept):  # dropped by the history's limit, not lost
                bubbles = conn.execute(
                    "SELECT count(*) FROM web_history WHERE session_hash = ?", (_digest(token),)
                ).fetchone()[0]
                assert bubbles == KEEP_ITEMS
        logged = conn.execute("SELECT count(*) FROM message_log").fetchone()[0]
        # Each answered message logged exactly once (the log keeps every message), and at most
        # one more a session: the one in flight at the kill.
        answered_total = sum(len(answered) for _, answered in results)
        assert answered_total <= logged <= answered_total + len(results)
    finally:
        conn.close()
