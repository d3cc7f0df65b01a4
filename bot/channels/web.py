"""The web chat: ``POST /api/chat`` and the page at ``/``.

Sessions are issued by the server: a random token goes to the browser, only its hash is stored.
A request with no session, or with one the server does not know (expired, or made up), starts
a new conversation and gets a new token back.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dispatcher import Dispatcher
from bot.domain.outbox_payload import payload_to_replies
from bot.http_body import BadJson, BodyTooLarge, parse_json, read_body
from bot.json_text import dumps
from bot.messages import Channel, ChatRef, Incoming, Reply
from bot.ratelimit import SharedRateLimiter, client_address, parse_networks
from storage.repositories import outbox, web_sessions

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


SESSION_HEADER = "X-Session-Token"


def _inline_hashes(html: str, tag: str) -> list[str]:
    """CSP source expressions ('sha256-...') of the page's inline <script> or <style> blocks."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    ]


def page_security_headers(html: str) -> dict[str, str]:
    """Headers of ``GET /``: a strict Content-Security-Policy allowing only the page's own
    inline script and style (by hash), no framing, no referrer leaving the site."""
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_inline_hashes(html, "script")),
            "style-src " + " ".join(_inline_hashes(html, "style")),
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'self'",  # the no-JavaScript form posts to chat/form
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


PAGE_SECURITY_HEADERS = page_security_headers((STATIC / "index.html").read_text("utf-8"))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers, dumps=dumps)


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


def _plausible(token: object) -> bool:
    """A string that could be a session token (the server issues 43 characters)."""
    return isinstance(token, str) and 16 <= len(token) <= 128


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
        secret: bytes = b"",
        rate_limit_per_address_per_minute: int = 120,
        trusted_proxies: str = "",
        history: WebHistory | None = None,
    ) -> None:
        self._history = history
        self._dispatcher = dispatcher
        self._sessions = sessions
        self._max_chars = max_message_chars
        # Both limits live in the database (bot.ratelimit): every worker counts on one row.
        secret = secret or dispatcher.services.secret
        self._limiter = SharedRateLimiter(
            sessions, secret=secret, name="web-session", limit=rate_limit_per_minute
        )
        self._address_limiter = SharedRateLimiter(
            sessions, secret=secret, name="web-address", limit=rate_limit_per_address_per_minute
        )
        self._trusted = parse_networks(trusted_proxies)
        self._session_ttl = timedelta(days=session_days)

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_post("/api/chat", self.chat)
        app.router.add_get("/api/chat/updates", self.updates)

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC / "index.html",
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Cache-Control": "no-cache",
                **PAGE_SECURITY_HEADERS,
            },
        )

    async def _admit(self, address: str, token: object) -> tuple[float, str | None]:
        """One short transaction: count the request against its address and, for a known
        session, against the session. Returns (seconds to wait or 0, the session's hash or
        None when the token is unknown or expired)."""
        async with self._sessions() as db, db.begin():
            return await self._admit_in(db, address, token)

    async def _admit_in(
        self, db: AsyncSession, address: str, token: object
    ) -> tuple[float, str | None]:
        """``_admit`` inside the caller's transaction."""
        wait = await self._address_limiter.hit_in(db, address)
        digest = await self._known_session(db, token)
        if wait <= 0 and digest is not None:
            wait = await self._limiter.hit_in(db, digest)
        return wait, digest

    def _incoming(self, session_hash: str, text: str | None, choice: str | None) -> Incoming:
        chat = ChatRef(Channel.WEB, session_hash[:32], session_hash[:32])
        return Incoming(chat=chat, event_id=uuid.uuid4().hex, text=text or "", choice=choice)

    def _refusal(self, wait: float) -> web.Response:
        return error(429, ERR_RATE, headers={"Retry-After": str(max(1, round(wait)))})

    async def _known_session(self, db: AsyncSession, token: object) -> str | None:
        """The hash of a known, unexpired session token (its last use touched), or None."""
        if not _plausible(token) or not isinstance(token, str):
            return None
        digest = _token_hash(token)
        # One statement: touch the session if it is known and unexpired, and say whether it was.
        return digest if await web_sessions.touch_live(db, digest, self._session_ttl) else None

    async def _new_session(self) -> tuple[str, str]:
        """A new session's (token, token hash), its first message counted; created only for
        an accepted request."""
        new = secrets.token_urlsafe(32)
        digest = _token_hash(new)
        async with self._sessions() as db, db.begin():
            await web_sessions.create(db, digest)
            await self._limiter.hit_in(db, digest)
        return new, digest

    def client_address(self, request: web.Request) -> str:
        """The client's address (``X-Forwarded-For`` believed only from ``TRUSTED_PROXIES``)."""
        return client_address(
            request.remote, request.headers.get("X-Forwarded-For", ""), self._trusted
        )

    async def updates(self, request: web.Request) -> web.Response:
        """Messages queued for this session since it last asked (dossier notifications).

        The token travels in the ``X-Session-Token`` header, never in the URL, so that it does
        not land in proxy and access logs; a token in the query string is ignored.
        """
        token = request.headers.get(SESSION_HEADER, "")
        digest = _token_hash(token)
        async with self._sessions() as db, db.begin():
            if not token or not await web_sessions.exists(db, digest):
                return error(401, ERR_SESSION)
            rows = await outbox.pending_for_chat(db, Channel.WEB.value, digest[:32])
            await outbox.mark_sent(db, [r.id for r in rows])
            queued = [r for row in rows for r in payload_to_replies(row.payload)]
            replies = [reply_json(r) for r in queued]
        if self._history is not None and queued:
            await self._history.record(digest, replies=queued)
        return web.json_response({"session": token, "replies": replies}, dumps=dumps)

    async def chat(self, request: web.Request) -> web.Response:
        try:
            raw = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return error(413, ERR_BODY)
        except (ValueError, ConnectionError):
            return error(400, ERR_JSON)
        try:
            body = parse_json(raw)
        except BadJson:
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
        # Limits first, by address and then by session; a refused request creates nothing.
        token = body.get("session")
        address = self.client_address(request)
        refused = 0.0
        history = self._history
        recorded = False

        async def keep(db: AsyncSession, shown: list[Reply]) -> None:
            nonlocal recorded
            if history is not None:
                await history.record_in(db, chat_hash, text=text, choice=choice, replies=shown)
                recorded = True

        chat_hash = _token_hash(token) if isinstance(token, str) else ""
        if _plausible(token):
            # A session the browser says it has: admitted in the message's own transaction
            # (one commit per message). Unknown or expired, it starts again below.
            admitted: str | None = None
            checked = False

            async def admit(db: AsyncSession) -> bool:
                nonlocal refused, admitted, checked
                refused, admitted = await self._admit_in(db, address, token)
                checked = True
                return refused <= 0 and admitted is not None

            replies = await self._dispatcher.handle(
                self._incoming(chat_hash, text, choice), before=admit, after=keep
            )
            if refused > 0:
                return self._refusal(refused)
            if admitted is not None or not checked:  # not checked: the database failed
                if history is not None and not recorded:  # the handler failed: the apology
                    await history.record(chat_hash, text=text, choice=choice, replies=replies)
                return web.json_response(
                    {"session": token, "replies": [reply_json(r) for r in replies]},
                    dumps=dumps,
                )
        else:  # no session yet: count the address alone
            return await self._first_message(address, text, choice)
        token, chat_hash = await self._new_session()
        replies = await self._dispatcher.handle(self._incoming(chat_hash, text, choice), after=keep)
        if history is not None and not recorded:  # the handler failed: keep the apology
            await history.record(chat_hash, text=text, choice=choice, replies=replies)
        return web.json_response(
            {"session": token, "replies": [reply_json(r) for r in replies]},
            dumps=dumps,
        )

    async def _first_message(
        self, address: str, text: str | None, choice: str | None
    ) -> web.Response:
        """A request without a session: the address counted, the session created (its first
        message counted) and the message handled, all in the message's one transaction (one
        commit, group-committed on SQLite). A refused request creates nothing; if the handler
        fails, the session is created afterwards so that the apology's token is a real one."""
        history = self._history
        token = secrets.token_urlsafe(32)
        chat_hash = _token_hash(token)
        refused = 0.0
        handled = False

        async def admit(db: AsyncSession) -> bool:
            nonlocal refused
            refused = await self._address_limiter.hit_in(db, address)
            if refused > 0:
                return False
            await web_sessions.create(db, chat_hash)
            await self._limiter.hit_in(db, chat_hash)
            return True

        async def keep(db: AsyncSession, shown: list[Reply]) -> None:
            nonlocal handled
            if history is not None:
                await history.record_in(db, chat_hash, text=text, choice=choice, replies=shown)
            handled = True

        replies = await self._dispatcher.handle(
            self._incoming(chat_hash, text, choice), before=admit, after=keep
        )
        if refused > 0:
            return self._refusal(refused)
        if not handled:  # the handler failed (rolled back, session and all): the apology
            async with self._sessions() as db, db.begin():
                if not await web_sessions.exists(db, chat_hash):
                    await web_sessions.create(db, chat_hash)
            if history is not None:
                await history.record(chat_hash, text=text, choice=choice, replies=replies)
        return web.json_response(
            {"session": token, "replies": [reply_json(r) for r in replies]},
            dumps=dumps,
        )
