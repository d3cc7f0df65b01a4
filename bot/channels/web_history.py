"""The web chat's history: what a reload (or tomorrow's visit on the same phone) shows.

The page keeps only its session token; the conversation itself comes back from the server:
``GET /api/chat/history`` with the token in the ``X-Session-Token`` header (never in the URL,
so that it stays out of proxy logs). A session sees only its own bubbles; an unknown or expired
session sees nothing (401, the same answer for both).

What is kept, and for how long:
- each bubble of the session: the citizen's text with phone and ID numbers masked
  (``bot.domain.privacy.mask_numbers``: a lookup's CCCD is never stored in clear), the label of a
  tapped button, and each reply of the assistant with its buttons; a chart or a file is kept
  as its name and description only, not its bytes;
- at most ``KEEP_ITEMS`` bubbles per session (older ones are deleted as new ones come), of which
  the endpoint returns the last ``SHOW_ITEMS``;
- as long as the session: rows are deleted with it (``ON DELETE CASCADE``) by the daily purge
  after ``WEB_SESSION_DAYS`` of inactivity, and an expired session's rows are never shown.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.privacy import mask_numbers
from bot.json_text import dumps
from bot.messages import Reply
from storage.repositories import web_sessions

log = logging.getLogger(__name__)

SESSION_HEADER = "X-Session-Token"
KEEP_ITEMS = 200
SHOW_ITEMS = 100
HIDDEN_COMMANDS = frozenset({"/start"})  # sent by the page itself on a first visit
ERR_SESSION = "Phiên trò chuyện không hợp lệ hoặc đã hết hạn."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


async def live_session(
    db: AsyncSession, token: object, ttl: timedelta, *, touch: bool = False
) -> str | None:
    """The hash of a known, unexpired session token, else None."""
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        return None
    digest = token_hash(token)
    return digest if await web_sessions.is_live(db, digest, ttl, touch=touch) else None


def reply_item(reply: Reply) -> dict[str, Any]:
    """A reply as it is kept: text and buttons; attachments by name and description only."""
    item: dict[str, Any] = {
        "text": reply.text,
        "choices": [{"label": c.label, "value": c.value} for c in reply.choices],
    }
    if reply.image is not None:
        item["image"] = {
            "name": reply.image.name,
            "alt": reply.image.alt or reply.text,
        }
    if reply.document is not None:
        item["document"] = {"name": reply.document.name}
    return item


class WebHistory:
    """Records the bubbles of web sessions and serves them back to their own session."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, session_days: int) -> None:
        self._sessions = sessions
        self._ttl = timedelta(days=session_days)

    def register(self, app: web.Application) -> None:
        app.router.add_get("/api/chat/history", self.endpoint)

    async def record(
        self,
        session_hash: str,
        *,
        text: str | None = None,
        choice: str | None = None,
        replies: list[Reply] | tuple[Reply, ...] = (),
    ) -> None:
        """Keep one exchange. A failure is logged, never shown: the answer matters more."""
        try:
            async with self._sessions() as db, db.begin():
                await self.record_in(db, session_hash, text=text, choice=choice, replies=replies)
        except SQLAlchemyError as exc:
            log.warning("web history not recorded: %s", type(exc).__name__)

    async def record_in(
        self,
        db: AsyncSession,
        session_hash: str,
        *,
        text: str | None = None,
        choice: str | None = None,
        replies: list[Reply] | tuple[Reply, ...] = (),
    ) -> None:
        """``record`` inside the caller's transaction: the web chat keeps the exchange in the
        transaction that handles the message (one commit per message)."""
        user = await self._user_item(db, session_hash, text, choice)
        rows = [{"role": "user", "payload": user}] if user is not None else []
        rows += [{"role": "bot", "payload": reply_item(reply)} for reply in replies]
        await web_sessions.add_bubbles(db, session_hash, rows)  # the user's bubble first
        await web_sessions.trim(db, session_hash, KEEP_ITEMS)

    async def _user_item(
        self, db: AsyncSession, session_hash: str, text: str | None, choice: str | None
    ) -> dict[str, Any] | None:
        if choice:
            return {"text": await self._label_of(db, session_hash, choice), "choice": True}
        if text and text.strip() not in HIDDEN_COMMANDS:
            return {"text": mask_numbers(text.strip())}
        return None

    async def _label_of(self, db: AsyncSession, session_hash: str, value: str) -> str:
        """The label of the button that sends ``value``, from the last replies shown."""
        for payload in await web_sessions.last_bot_payloads(db, session_hash, 20):
            for c in payload.get("choices") or ():
                if c.get("value") == value:
                    return str(c.get("label", ""))
        return "✓"

    async def items(self, token: object) -> list[dict[str, Any]] | None:
        """The last bubbles of the session, oldest first; None for an unknown or expired one."""
        async with self._sessions() as db, db.begin():
            digest = await live_session(db, token, self._ttl)
            if digest is None:
                return None
            rows = await web_sessions.last_bubbles(db, digest, SHOW_ITEMS)
        return [
            {"role": r.role, **r.payload, "at": _naive(r.created_at).isoformat() + "Z"}
            for r in rows
        ]

    async def endpoint(self, request: web.Request) -> web.Response:
        """``GET /api/chat/history``: this session's bubbles, oldest first."""
        items = await self.items(request.headers.get(SESSION_HEADER, ""))
        if items is None:
            return web.json_response({"error": ERR_SESSION}, status=401, dumps=dumps)
        return web.json_response(
            {"items": items}, headers={"Cache-Control": "no-store"}, dumps=dumps
        )
