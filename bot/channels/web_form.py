"""The web chat without JavaScript: a plain HTML form, rendered by the server.

The page at ``/`` is a form that posts to ``chat/form`` when its script does not run (scripts
off, an old phone, a failed load), and says so in a ``<noscript>``. ``POST /chat/form`` hands the
question (or the tapped button) to the same dispatcher as ``POST /api/chat`` and answers with a
redirect to ``GET /chat/form`` (post/redirect/get: a reload does not send the question twice),
which shows the conversation from the session's history (``bot.channels.web_history``) with the
latest question at the top of the view and the last buttons as submit buttons.

Without JavaScript the session token cannot go in a header, so it lives in an ``HttpOnly``
cookie with ``SameSite=Lax``: another site can link to the page but cannot post into a
citizen's conversation; a request whose ``Origin`` is another site is refused as well.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import uuid
from datetime import timedelta
from html import escape
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from bot.channels.web import MAX_CHOICE_CHARS
from bot.channels.web_history import WebHistory, live_session, token_hash
from bot.channels.web_links import to_html
from bot.dispatcher import Dispatcher
from bot.messages import Channel, ChatRef, Incoming
from bot.ratelimit import SharedRateLimiter, client_address, parse_networks
from storage.repositories import web_sessions

log = logging.getLogger(__name__)

COOKIE = "motcua_form_session"
FORM_PATH = "/chat/form"
MAX_FORM_BYTES = 32 * 1024

TITLE = "Trợ lý ảo Một cửa – TP. Cần Thơ"
NOTE = "Bạn đang dùng bản không cần JavaScript: gõ câu hỏi rồi bấm «Gửi»."
FULL_VERSION = "Mở bản đầy đủ"
ASK = "Câu hỏi"
PLACEHOLDER = "Nhập câu hỏi của bạn…"
SEND = "Gửi"
YOU = "Bạn"
BOT = "Trợ lý"
ERR_TOO_LONG = "Tin nhắn quá dài: tối đa {limit} ký tự. Bạn vui lòng rút gọn rồi gửi lại."
ERR_RATE = "Bạn gửi nhanh quá. Vui lòng chờ ít giây rồi gửi lại."
ERR_ORIGIN = "Yêu cầu không hợp lệ."
ERR_EMPTY = "Bạn hãy gõ câu hỏi trước khi bấm «Gửi»."
IMAGE_NOTE = "[Hình: {alt}]"
DOCUMENT_NOTE = "[Tệp: {name} – mở bản đầy đủ để tải về]"

STYLE = """
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;
background:#f3f5f8}
header{background:#0b5cab;color:#fff;padding:12px 16px}
header h1{font-size:17px;margin:0}
header p{font-size:13px;margin:2px 0 0}
header a{color:#fff}
main{padding:12px;max-width:720px;margin:0 auto}
.msg{padding:9px 12px;border-radius:14px;margin:0 0 8px;white-space:pre-wrap;overflow-wrap:anywhere;
max-width:88%;width:fit-content}
.bot{background:#fff}
.me{background:#dcecff;margin-left:auto}
.who{position:absolute;left:-9999px}
.err{background:#fde8e8;color:#7a1010}
a{color:#0b4f94}
.choices{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 8px}
.choices button{font:inherit;font-size:15px;text-align:left;border:1px solid #0b5cab;color:#0b4f94;
background:#fff;border-radius:16px;padding:6px 12px}
.choices button:disabled{color:#4f5a67;background:#e9edf1;border-color:#c3cad3}
form.ask{display:flex;gap:8px;padding:10px;background:#fff;border-top:1px solid #dde2e8;
max-width:720px;margin:0 auto;position:sticky;bottom:0}
textarea{flex:1;font:inherit;border:1px solid #6b7785;border-radius:18px;padding:8px 14px}
form.ask button{font:inherit;border:0;border-radius:18px;background:#0b5cab;color:#fff;
padding:0 18px}
"""


def _csp_hash(block: str) -> str:
    digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
    return f"'sha256-{digest}'"


HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'none'",
            f"style-src {_csp_hash(STYLE)}",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _bubble(item: dict[str, Any], anchor: str = "") -> str:
    mine = item.get("role") == "user"
    text = str(item.get("text", ""))
    notes = []
    if isinstance(item.get("image"), dict):
        notes.append(IMAGE_NOTE.format(alt=item["image"].get("alt") or item["image"].get("name")))
    if isinstance(item.get("document"), dict):
        notes.append(DOCUMENT_NOTE.format(name=item["document"].get("name", "")))
    body = to_html("\n".join([text, *notes]) if notes else text)
    who = YOU if mine else BOT
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f'<div class="msg {"me" if mine else "bot"}"{ident}>'
        f'<span class="who">{who}: </span>{body}</div>'
    )


def _choices(item: dict[str, Any], *, live: bool) -> str:
    """An item's buttons: submit buttons on the last turn, greyed out on older ones."""
    choices = item.get("choices") or ()
    if not choices:
        return ""
    if not live:
        buttons = "".join(
            f'<button type="button" disabled>{escape(str(c["label"]))}</button>' for c in choices
        )
        return f'<div class="choices">{buttons}</div>'
    buttons = "".join(
        f'<button type="submit" name="choice" value="{escape(str(c["value"]))}">'
        f"{escape(str(c['label']))}</button>"
        for c in choices
    )
    return f'<form class="choices" method="post" action="form">{buttons}</form>'


def render_page(
    items: list[dict[str, Any]], *, error: str = "", draft: str = "", max_chars: int = 2000
) -> str:
    """The whole page: the conversation with its buttons, then the form."""
    last_user = max((i for i, it in enumerate(items) if it.get("role") == "user"), default=-1)
    parts: list[str] = []
    for i, item in enumerate(items):
        parts.append(_bubble(item, "moi" if i == last_user else ""))
        # Only the buttons of the last turn (after the last question) are still valid.
        parts.append(_choices(item, live=i > last_user))
    if error:
        parts.append(f'<div class="msg err" role="alert" id="loi">{escape(error)}</div>')
    return (
        "<!doctype html>\n"
        '<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(TITLE)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>Trợ lý ảo Một cửa</h1><p>{escape(NOTE)} "
        f'<a href="../">{escape(FULL_VERSION)}</a></p></header>\n'
        f'<main id="log">{"".join(parts)}</main>\n'
        '<form class="ask" method="post" action="form">'
        f'<textarea name="text" rows="2" maxlength="{max_chars}" aria-label="{escape(ASK)}" '
        f'placeholder="{escape(PLACEHOLDER)}">{escape(draft)}</textarea>'
        f'<button type="submit">{escape(SEND)}</button></form>\n'
        "</body>\n</html>\n"
    )


class WebForm:
    """``GET`` and ``POST /chat/form`` on the web chat's dispatcher and history."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        history: WebHistory,
        *,
        max_message_chars: int,
        rate_limit_per_minute: int,
        session_days: int,
        rate_limit_per_address_per_minute: int = 120,
        trusted_proxies: str = "",
    ) -> None:
        self._dispatcher = dispatcher
        self._sessions = sessions
        self._history = history
        self._max_chars = max_message_chars
        # The same limits as the JSON API, counted on the same database rows (bot.ratelimit).
        secret = dispatcher.services.secret
        self._limiter = SharedRateLimiter(
            sessions, secret=secret, name="web-session", limit=rate_limit_per_minute
        )
        self._address_limiter = SharedRateLimiter(
            sessions, secret=secret, name="web-address", limit=rate_limit_per_address_per_minute
        )
        self._trusted = parse_networks(trusted_proxies)
        self._ttl = timedelta(days=session_days)

    def register(self, app: web.Application) -> None:
        app.router.add_get(FORM_PATH, self.page)
        app.router.add_post(FORM_PATH, self.post)

    async def _open(self, token: str | None) -> tuple[str, str, bool]:
        """(token, hash, is_new) of the cookie's session, or of a new one."""
        async with self._sessions() as db, db.begin():
            digest = await live_session(db, token, self._ttl, touch=True)
            if token and digest is not None:
                return token, digest, False
            new = secrets.token_urlsafe(32)
            digest = token_hash(new)
            await web_sessions.create(db, digest)
            return new, digest, True

    async def _say(self, digest: str, *, text: str = "", choice: str | None = None) -> None:
        chat = ChatRef(Channel.WEB, digest[:32], digest[:32])
        incoming = Incoming(chat=chat, event_id=uuid.uuid4().hex, text=text, choice=choice)
        replies = await self._dispatcher.handle(incoming)
        await self._history.record(digest, text=text, choice=choice, replies=replies)

    def _respond(self, request: web.Request, response: web.StreamResponse, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self._ttl.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=request.secure or request.headers.get("X-Forwarded-Proto") == "https",
        )

    async def page(self, request: web.Request) -> web.Response:
        token, digest, new = await self._open(request.cookies.get(COOKIE))
        if new:
            await self._say(digest, text="/start")
        items = await self._history.items(token) or []
        response = web.Response(text=render_page(items, max_chars=self._max_chars), headers=HEADERS)
        self._respond(request, response, token)
        return response

    def _foreign(self, request: web.Request) -> bool:
        """A post from a page of another site. ("null" is what a page with
        ``Referrer-Policy: no-referrer`` sends; the ``SameSite=Lax`` cookie still keeps another
        site's post out of the citizen's conversation.)"""
        origin = request.headers.get("Origin")
        if not origin or origin == "null":
            return False
        return URL(origin).host != request.url.host

    async def post(self, request: web.Request) -> web.StreamResponse:
        if self._foreign(request):
            return web.Response(text=ERR_ORIGIN, status=403, headers=HEADERS)
        if (request.content_length or 0) > MAX_FORM_BYTES:
            return await self._again(request, ERR_TOO_LONG.format(limit=self._max_chars), 413)
        form = await request.post()
        text = str(form.get("text") or "").strip()
        choice = str(form.get("choice") or "").strip() or None
        if choice and len(choice) > MAX_CHOICE_CHARS:
            choice = None
        if not text and not choice:
            return await self._again(request, ERR_EMPTY, 400)
        if len(text) > self._max_chars:
            return await self._again(
                request, ERR_TOO_LONG.format(limit=self._max_chars), 413, draft=text
            )
        address = client_address(
            request.remote, request.headers.get("X-Forwarded-For", ""), self._trusted
        )
        if await self._address_limiter.hit(address) > 0:  # refused before any session is made
            return await self._again(request, ERR_RATE, 429, draft=text)
        token, digest, _new = await self._open(request.cookies.get(COOKIE))
        if await self._limiter.hit(digest) > 0:
            return await self._again(request, ERR_RATE, 429, draft=text, token=token)
        if choice:
            await self._say(digest, choice=choice)
        else:
            await self._say(digest, text=text)
        response = web.Response(status=303, headers={"Location": "form#moi"})
        self._respond(request, response, token)
        return response

    async def _again(
        self,
        request: web.Request,
        error: str,
        status: int,
        *,
        draft: str = "",
        token: str | None = None,
    ) -> web.Response:
        """The page again with the error, and the typed text back in the box (nothing lost)."""
        token = token or request.cookies.get(COOKIE)
        items = await self._history.items(token) or []
        page = render_page(items, error=error, draft=draft, max_chars=self._max_chars)
        return web.Response(text=page, status=status, headers=HEADERS)
