"""Several processes on one database: a flow split across them, a delivery to both, a chat's
updates from both; retention and forgetting; a graceful stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.app import App
from bot.messages import Channel, ChatRef, Incoming
from storage.models import (
    FeedbackAnswer,
    FeedbackResponse,
    MessageLog,
    ProcessedEvent,
    Subscription,
    utcnow,
)
from storage.models.admin import AuditLog
from storage.repositories import audit, retention
from tests.conftest import make_settings
from tests.dossier_fixtures import CODE, OWNER_ID, build_city, ingest
from tests.transcript import Conversation


@pytest.fixture
async def second(database_url: str, tmp_path: Path, app: App) -> AsyncIterator[App]:
    """Another worker process on the same database."""
    other = App.build(make_settings(database_url, tmp_path))
    await other.start(migrate_db=False, watch=False)
    yield other
    await other.close()


async def test_a_lookup_started_on_one_worker_finishes_on_the_other(app: App, second: App) -> None:
    await build_city(app)
    first = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id="42")
    await first.say(CODE)
    assert "CCCD" in first.text
    other = Conversation(second.dispatcher, channel=Channel.TELEGRAM, chat_id="42")
    await other.say(OWNER_ID)
    assert "Trạng thái: Đang xử lý" in other.text


async def test_one_delivery_sent_to_both_workers_is_processed_once(app: App, second: App) -> None:
    chat = ChatRef(Channel.TELEGRAM, "43", "43")
    update = Incoming(chat, "update-9001", text="lệ phí đăng ký tạm trú")
    results = await asyncio.gather(app.dispatcher.handle(update), second.dispatcher.handle(update))
    assert sorted(bool(r) for r in results) == [False, True]
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MessageLog)) == 1


async def test_one_chat_written_from_both_workers_loses_nothing(app: App, second: App) -> None:
    chat = ChatRef(Channel.TELEGRAM, "44", "44")
    updates = [
        (app if i % 2 else second).dispatcher.handle(
            Incoming(chat, f"u{i}", text=f"lệ phí đăng ký tạm trú lần {i}")
        )
        for i in range(10)
    ]
    assert all(await asyncio.gather(*updates))
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MessageLog)) == 10


async def test_retention_purges_old_rows_and_only_the_purge_may_delete_audit_rows(app: App) -> None:
    old = utcnow() - timedelta(days=400)
    async with app.sessions() as s, s.begin():
        s.add(
            MessageLog(
                channel="web", user_hash="u", question="cũ", decision="answer", created_at=old
            )
        )
        s.add(MessageLog(channel="web", user_hash="u", question="mới", decision="answer"))
        s.add(ProcessedEvent(channel="web", event_id="old", processed_at=old))
        await audit.record(s, "admin-hash", "admin", "kb.answer", "x/y", {})
        s.add(
            AuditLog(
                actor_hash="a", role="admin", action="kb.old", at=utcnow() - timedelta(days=3000)
            )
        )
    with pytest.raises(DBAPIError):
        async with app.sessions() as s, s.begin():
            await s.execute(text("DELETE FROM audit_log"))
    with pytest.raises(DBAPIError):
        async with app.sessions() as s, s.begin():
            await s.execute(text("UPDATE audit_log SET action = 'forged'"))
    deleted = await app.purge()
    assert deleted["message_log"] == 1 and deleted["processed_events"] == 1
    assert deleted["audit_log"] == 1
    async with app.sessions() as s:
        assert list(await s.scalars(select(MessageLog.question))) == ["mới"]
        assert list(await s.scalars(select(AuditLog.action))) == ["kb.answer"]


async def test_forgetting_a_citizen_keeps_anonymous_statistics(app: App) -> None:
    await build_city(app)
    c = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id="45")
    await c.say(CODE)
    await c.say(OWNER_ID)
    await c.tap_label("Báo tôi khi có thay đổi")
    await c.say("số tôi 0912345678, hỏi lệ phí tạm trú")
    await ingest(
        app,
        {
            "events": [
                {"id": "f1", "dossier_code": CODE, "at": "2026-01-20T09:00:00+07:00", "status": 9}
            ]
        },
    )
    async with app.sessions() as s:
        invitation = await s.scalar(text("SELECT id FROM feedback_invitations"))
    await c.tap(f"rt:{invitation}:2")
    user_hash = app.dispatcher.user_hash_of(Channel.TELEGRAM, "45")
    async with app.sessions() as s, s.begin():
        done = await retention.forget(s, channel="telegram", user_id="45", user_hash=user_hash)
    assert done["questions"] >= 1 and done["subscriptions"] == 1 and done["ratings"] == 1
    async with app.sessions() as s:
        hashes = set(await s.scalars(select(MessageLog.user_hash)))
        assert hashes == {retention.FORGOTTEN}
        assert await s.scalar(select(func.count()).select_from(Subscription)) == 0
        response = (await s.scalars(select(FeedbackResponse))).one()
        assert response.user_hash == retention.FORGOTTEN and response.agency_id is not None
        assert (await s.scalars(select(FeedbackAnswer.value))).one() == 2  # the rating counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_stops_the_server_gracefully(tmp_path: Path) -> None:
    import urllib.request

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/g.db",
        "SECRET_KEY": "scaling-test-key-0123456789abcdef0123",
        "PORT": str(port),
        "KB_DIR": str(tmp_path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "stopping: finishing requests in flight" in out
