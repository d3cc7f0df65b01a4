"""The web chat: ``POST /api/chat`` and the page at ``/``.

Sessions are issued by the server: a random token goes to the browser, only its hash is stored.
A request with no session, or with one the server does not know (expired, or made up), starts
a new conversation and gets a new token back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections import deque
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import payload_to_replies
from bot.dispatcher import Dispatcher
from bot.messages import Channel, ChatRef, Incoming, Reply
from storage.models import WebSession, utcnow
from storage.repositories import outbox

if TYPE_CHECKING:
    from bot.channels.web_history import WebHistory

STATIC = Path(__file__).resolve().parent.parent / "static"
MAX_BODY_BYTES = 16 * 1024
MAX_CHOICE_CHARS = 128

ERR_JSON = "Yêu cầu không hợp lệ: nội dung phải là JSON."
ERR_OBJECT = "Yêu cầu không hợp lệ: cần một đối tượng JSON."
ERR_MISSING = 'Thiếu trường: cần "text" hoặc "choice".'
ERR_TYPE = 'Trường "{field}" phải là chuỗi ký tự.'
ERR_TOO_LONG = "Tin nhắn quá dài: tối đa {limit} ký tự."
ERR_BODY = "Yêu cầu quá lớn."
ERR_RATE = "Bạn gửi nhanh quá. Vui lòng chờ ít giây rồi gửi lại."
ERR_SESSION = "Phiên trò chuyện không hợp lệ hoặc đã hết hạn. Bạn vui lòng tải lại trang."


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers, dumps=_dumps)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def reply_json(reply: Reply) -> dict[str, Any]:
    """A reply as JSON; a chart or a report travels inline as a data: URL (staff replies)."""
    out: dict[str, Any] = {
        "text": reply.text,
        "choices": [{"label": c.label, "value": c.value} for c in reply.choices],
    }
    for key, attachment in (("image", reply.image), ("document", reply.document)):
        if attachment is not None:
            data = base64.b64encode(attachment.content).decode()
            out[key] = {
                "name": attachment.name,
                "url": f"data:{attachment.mime_type};base64,{data}",
            }
            if attachment.alt:
                out[key]["alt"] = attachment.alt
    return out


class RateLimiter:
    """A sliding one-minute window per key, in this process's memory."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float | None = None) -> float:
        """0 if the request may go ahead (and counts it), else seconds to wait."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return 60 - (now - hits[0])
        hits.append(now)
        if len(self._hits) > 100_000:
            self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < 60}
        return 0.0


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebChannel:
    """Adapter between the JSON API and the dispatcher."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_message_chars: int,
        rate_limit_per_minute: int,
        session_days: int,
        history: WebHistory | None = None,
    ) -> None:
        self._history = history
        self._dispatcher = dispatcher
        self._sessions = sessions
        self._max_chars = max_message_chars
        self._limiter = RateLimiter(rate_limit_per_minute)
        self._session_ttl = timedelta(days=session_days)

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_post("/api/chat", self.chat)
        app.router.add_get("/api/chat/updates", self.updates)

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC / "index.html",
            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"},
        )

    async def _session(self, token: object) -> tuple[str, str]:
        """(token, token hash) of a known, unexpired session, or of a new one."""
        async with self._sessions() as db, db.begin():
            if isinstance(token, str) and 16 <= len(token) <= 128:
                digest = _token_hash(token)
                row = await db.scalar(select(WebSession).where(WebSession.token_hash == digest))
                if row is not None and row.last_seen_at.replace(tzinfo=None) > (
                    utcnow() - self._session_ttl
                ).replace(tzinfo=None):
                    await db.execute(
                        update(WebSession)
                        .where(WebSession.token_hash == digest)
                        .values(last_seen_at=utcnow())
                    )
                    return token, digest
            new = secrets.token_urlsafe(32)
            digest = _token_hash(new)
            db.add(WebSession(token_hash=digest))
            return new, digest

    async def updates(self, request: web.Request) -> web.Response:
        """Messages queued for this session since it last asked (dossier notifications)."""
        token = request.headers.get("X-Session-Token") or request.query.get("session", "")
        digest = _token_hash(token)
        async with self._sessions() as db, db.begin():
            known = await db.scalar(
                select(WebSession.token_hash).where(WebSession.token_hash == digest)
            )
            if not token or known is None:
                return error(401, ERR_SESSION)
            rows = await outbox.pending_for_chat(db, Channel.WEB.value, digest[:32])
            await outbox.mark_sent(db, [r.id for r in rows])
            queued = [r for row in rows for r in payload_to_replies(row.payload)]
            replies = [reply_json(r) for r in queued]
        if self._history is not None and queued:
            await self._history.record(digest, replies=queued)
        return web.json_response({"session": token, "replies": replies}, dumps=_dumps)

    async def chat(self, request: web.Request) -> web.Response:
        try:
            raw = await request.content.read(MAX_BODY_BYTES + 1)
        except (ValueError, ConnectionError):
            return error(400, ERR_JSON)
        if len(raw) > MAX_BODY_BYTES:
            return error(413, ERR_BODY)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return error(400, ERR_JSON)
        if not isinstance(body, dict):
            return error(400, ERR_OBJECT)
        for field in ("session", "text", "choice"):
            if body.get(field) is not None and not isinstance(body[field], str):
                return error(400, ERR_TYPE.format(field=field))
        text = body.get("text")
        choice = body.get("choice")
        if not text and not choice:
            return error(400, ERR_MISSING)
        if text and len(text) > self._max_chars:
            return error(413, ERR_TOO_LONG.format(limit=self._max_chars))
        if choice and len(choice) > MAX_CHOICE_CHARS:
            return error(400, ERR_TYPE.format(field="choice"))
        token, digest = await self._session(body.get("session"))
        wait = self._limiter.retry_after(digest)
        if wait > 0:
            return error(429, ERR_RATE, headers={"Retry-After": str(max(1, round(wait)))})
        chat = ChatRef(Channel.WEB, digest[:32], digest[:32])
        incoming = Incoming(
            chat=chat,
            event_id=uuid.uuid4().hex,
            text=text or "",
            choice=choice or None,
        )
        replies = await self._dispatcher.handle(incoming)
        if self._history is not None:
            await self._history.record(digest, text=text, choice=choice, replies=replies)
        return web.json_response(
            {"session": token, "replies": [reply_json(r) for r in replies]},
            dumps=_dumps,
        )
