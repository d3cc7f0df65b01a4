"""The Zalo Bot channel: polling or webhook receiver, replies, and outbox delivery."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    PlatformChannel,
    secret_matches,
)
from bot.channels.zalo_bot.api import (
    CHANNEL,
    DEFAULT_API_BASE_URL,
    NO_UPDATE,
    SECRET_HEADER,
    TOKEN_REJECTED,
    TRANSIENT,
    WEBHOOK_PATH,
    BotApiError,
    Mode,
    Tuning,
)
from bot.channels.zalo_bot.render import render
from bot.channels.zalo_bot.updates import parse_update, updates_of
from bot.config import Settings
from bot.delivery import Delivery, DeliveryResult
from bot.dispatcher import Dispatcher
from bot.json_text import dumps
from bot.messages import Reply
from bot.ratelimit import SharedRateLimiter, wait_for
from bot.update_inbox import NotReady, UpdateInbox
from bot.update_inbox import Update as Stored

log = logging.getLogger(__name__)

ERR_SECRET = "Sai hoặc thiếu mã bí mật của webhook."  # noqa: S105


ERR_BODY = "Yêu cầu không hợp lệ: cần một bản tin cập nhật JSON của Zalo Bot."


ERR_STARTING = "Kênh Zalo Bot đang khởi động, vui lòng thử lại sau."


ERR_STORE = "Chưa lưu được bản tin, vui lòng gửi lại sau."


class ZaloBotChannel(PlatformChannel):
    """The Zalo Bot API channel: polling or webhook receiver, sender, and outbox sender."""

    channel = CHANNEL

    def __init__(
        self,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        *,
        token: str,
        secret: bytes,
        mode: Mode = "polling",
        api_base_url: str = DEFAULT_API_BASE_URL,
        webhook_url: str = "",
        webhook_secret: str = "",
        tuning: Tuning | None = None,
        inbox: UpdateInbox | None = None,
    ) -> None:
        super().__init__()
        self.tuning = tuning or Tuning()
        self.mode: Mode = mode
        self.webhook_url = webhook_url
        self._dispatcher = dispatcher
        self._sessions = sessions
        self._token = token
        self._log_secret = secret
        self._base = f"{(api_base_url or DEFAULT_API_BASE_URL).rstrip('/')}/bot{token}/"
        self._webhook_secret = webhook_secret.encode()
        self._http_session: aiohttp.ClientSession | None = None
        self._limiter = AsyncLimiter(self.tuning.requests_per_second, 1)
        self._wire(sessions, inbox, secret)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        tuning: Tuning | None = None,
        inbox: UpdateInbox | None = None,
    ) -> ZaloBotChannel:
        """The channel for the ``ZALO_BOT_*`` settings (the token must be set)."""
        if settings.zalo_bot_token is None:
            raise ValueError("ZALO_BOT_TOKEN is not set")
        secret = settings.zalo_bot_webhook_secret
        return cls(
            dispatcher,
            sessions,
            token=settings.zalo_bot_token.get_secret_value(),
            secret=settings.resolved_secret(),
            mode=settings.zalo_bot_mode,
            api_base_url=settings.zalo_bot_api_base_url,
            webhook_url=settings.zalo_bot_webhook_url,
            webhook_secret=secret.get_secret_value() if secret is not None else "",
            tuning=tuning,
            inbox=inbox,
        )

    @property
    def uses_webhook(self) -> bool:
        return self.mode == "webhook"

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<redacted>") if self._token else text

    def _chat_ref(self, chat_id: str) -> str:
        """A chat as it may appear in a log line: a keyed hash, never the id."""
        return self.reachability.ref(chat_id)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Set up in the background (retrying while Zalo is unreachable), then poll or wait
        for webhook calls: Zalo being down at start must not keep the server down."""
        self._limiter = AsyncLimiter(self.tuning.requests_per_second, 1)
        self._http_session = aiohttp.ClientSession()
        self._run_in_background(self._run(), "zalo-bot")
        if self.uses_webhook:
            await self._open_inbox()

    async def stop(self) -> None:
        """Stop polling, finish the updates in progress (bounded), close the client."""
        await self._stop_runner()
        await self.drain(self.tuning.drain_timeout)
        await self._close_inbox()
        self._ready.clear()
        if self._http_session is not None:
            await self._http_session.close()
            self._http_session = None

    async def drain(self, seconds: float | None = None) -> None:
        """Wait until every stored webhook update has been handled and answered."""
        await self._drain_inbox(seconds)

    async def _run(self) -> None:
        if not await self._setup():
            return
        if not self.uses_webhook:
            await self._poll()

    async def _setup(self) -> bool:
        delay = self.tuning.backoff_base
        while True:
            try:
                await self._call("getMe", {})
                break
            except BotApiError as exc:
                if exc.code in TOKEN_REJECTED:
                    log.error("Zalo Bot API rejected ZALO_BOT_TOKEN: the Zalo Bot channel is off")
                    return False
                log.warning(
                    "Zalo Bot API unreachable at start (%s); retrying in %.1f s", exc, delay
                )
                await asyncio.sleep(delay)
                delay = self.backoff.after(delay)
        try:
            if self.uses_webhook and self.webhook_url:
                payload = {"url": self.webhook_url, "secret_token": self._webhook_secret.decode()}
                await self._call("setWebhook", payload)
                log.info("Zalo Bot webhook registered")
            elif not self.uses_webhook:
                await self._call("deleteWebhook", {})  # getUpdates fails while one is set
        except BotApiError as exc:
            log.error("Zalo Bot: could not set up the webhook (%s)", exc)
        self._ready.set()
        log.info("Zalo Bot channel ready by %s", "webhook" if self.uses_webhook else "polling")
        return True

    # ------------------------------------------------------------ receiving

    async def _poll(self) -> None:
        """getUpdates forever: one update per call; 408 only means "nothing new"."""
        delay = self.tuning.backoff_base
        while True:
            try:
                result = await self._call(
                    "getUpdates",
                    {"timeout": self.tuning.poll_timeout},
                    http_timeout=self.tuning.poll_timeout + self.tuning.http_timeout,
                )
            except BotApiError as exc:
                if exc.code == NO_UPDATE:
                    delay = self.tuning.backoff_base
                    continue
                if exc.code in TOKEN_REJECTED:
                    log.error("Zalo Bot API rejected ZALO_BOT_TOKEN: polling stopped")
                    return
                log.warning("Zalo Bot getUpdates failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = self.backoff.after(delay)
                continue
            delay = self.tuning.backoff_base
            for update in updates_of(result):
                await self.process(update)

    def register(self, app: web.Application) -> None:
        """Add ``POST /zalo/bot/webhook`` to the server (nothing when polling)."""
        if self.uses_webhook:
            app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """One body (one update or several): 401 unless the secret header matches, else 200
        once its updates are stored; they are handled afterwards, from the inbox."""
        if not secret_matches(request, SECRET_HEADER, self._webhook_secret):
            log.warning("Zalo Bot webhook: request with a missing or wrong secret refused")
            return web.json_response({"error": ERR_SECRET}, status=401, dumps=dumps)
        try:
            data = await request.json()
        except ValueError:
            return web.json_response({"error": ERR_BODY}, status=400, dumps=dumps)
        if not isinstance(data, dict | list):
            return web.json_response({"error": ERR_BODY}, status=400, dumps=dumps)
        updates = updates_of(data)
        if not updates:
            # Acknowledged all the same: Zalo would only send the same unknown body again.
            log.info("Zalo Bot webhook: a body without an update was ignored")
        stored = [
            Stored(incoming.event_id, incoming.chat.chat_id, update)
            for update in updates
            if (incoming := parse_update(update)) is not None
        ]
        try:
            await self.inbox.put(CHANNEL.value, stored)
        except Exception as exc:
            log.error("Zalo Bot webhook: update not stored (%s)", type(exc).__name__)
            return web.json_response({"error": ERR_STORE}, status=503, dumps=dumps)
        return web.json_response({"ok": True})

    async def _handle_stored(self, update: object) -> None:
        """An update from the inbox: handled once the channel is set up."""
        if not await self.wait_ready():
            raise NotReady("the Zalo Bot channel is not ready")
        if isinstance(update, dict):
            await self.process(update)

    async def process(self, update: Mapping[str, Any]) -> None:
        """Handle one update and send its replies, in arrival order per chat. Never raises."""
        incoming = parse_update(update)
        if incoming is None:
            return
        chat_id = incoming.chat.chat_id
        async with self._receive_locks(chat_id):
            try:
                replies = await self._dispatcher.handle(incoming)
                if replies:
                    await self._reply(chat_id, replies)
            except Exception:
                log.exception("Zalo Bot: an update could not be handled")

    # ------------------------------------------------------------ sending

    async def _reply(self, chat_id: str, replies: Sequence[Reply]) -> None:
        async with self._send_locks(chat_id):
            for text in render(replies):
                try:
                    await self.send_text(chat_id, text)
                except BotApiError as exc:
                    log.warning("Zalo Bot: reply to %s not sent (%s)", self._chat_ref(chat_id), exc)
                    return

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult:
        """Send queued replies (notifications from the outbox) and say how it went."""
        if await self.reachability.unreachable(chat_id):
            return DeliveryResult(Delivery.UNDELIVERABLE, "the chat is unreachable")
        async with self._send_locks(chat_id):
            try:
                for text in render(replies):
                    await self.send_text(chat_id, text)
            except BotApiError as exc:
                if exc.retryable or exc.code in TOKEN_REJECTED:
                    return DeliveryResult(Delivery.RETRY, str(exc))
                if exc.code == 403:
                    await self.reachability.mark(chat_id, str(exc))
                return DeliveryResult(Delivery.UNDELIVERABLE, str(exc))
        return DeliveryResult(Delivery.SENT)

    async def send_text(self, chat_id: str, text: str) -> Any:
        """sendMessage, retrying rate limits, 5xx and network failures with backoff."""
        failures = 0
        while True:
            try:
                return await self._call("sendMessage", {"chat_id": chat_id, "text": text})
            except BotApiError as exc:
                failures += 1
                if not exc.retryable or self.backoff.exhausted(failures):
                    raise
                delay = self.backoff.delay(failures)
                log.warning("Zalo Bot sendMessage failed (%s); retry in %.2f s", exc, delay)
                await asyncio.sleep(delay)

    async def _call(
        self, method: str, payload: dict[str, Any], *, http_timeout: float | None = None
    ) -> Any:
        """One API call: the ``result``, or ``BotApiError`` (the body is read whatever the
        HTTP status). Error texts are redacted: the URL holds the token."""
        if self._http_session is None:
            raise BotApiError(TRANSIENT, "the channel is not started")
        await self._limiter.acquire()
        await wait_for(  # the same per-second budget counted across every worker
            SharedRateLimiter(
                self._sessions,
                secret=self._log_secret,
                name="zalo-bot",
                limit=max(1, int(self.tuning.requests_per_second)),
                window_seconds=1.0,
            )
        )
        try:
            async with self._http_session.post(
                self._base + method,
                json=payload,
                timeout=aiohttp.ClientTimeout(total=http_timeout or self.tuning.http_timeout),
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BotApiError(TRANSIENT, f"{method}: {type(exc).__name__}") from None
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            code = status if status >= 400 else TRANSIENT
            raise BotApiError(code, f"{method}: unreadable answer (HTTP {status})")
        if data.get("ok") is not True:
            raw_code = str(data.get("error_code", ""))
            code = int(raw_code) if raw_code.lstrip("-").isdigit() else status
            description = self._redact(str(data.get("description") or ""))[:200]
            raise BotApiError(code, f"{method}: {description}")
        return data.get("result")
