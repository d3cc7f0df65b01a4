"""The OA channel: webhook receiver, sender of replies, and outbox sender."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import PlatformChannel
from bot.channels.zalo_oa.api import (
    CHANNEL,
    HUMAN_NEEDED_ERRORS,
    NOT_FOLLOWING,
    SIGNATURE_HEADER,
    WEBHOOK_PATH,
    WINDOW_REFUSED,
    WINDOW_SKIPPED,
    OaApiError,
    SignatureVariant,
    Tuning,
)
from bot.channels.zalo_oa.cipher import TokenCipher
from bot.channels.zalo_oa.client import OaClient
from bot.channels.zalo_oa.render import NO_ATTACHMENT, OaMessage, render
from bot.channels.zalo_oa.tokens import TokenError
from bot.channels.zalo_oa.webhook import (
    LIFECYCLE,
    OaEvent,
    event_is_fresh,
    parse_event,
    signature_matches,
)
from bot.config import Settings
from bot.delivery import Delivery, DeliveryResult
from bot.dispatcher import Dispatcher
from bot.json_text import dumps
from bot.messages import ChatRef, EventKind, Incoming, Reply
from bot.update_inbox import NotReady, UpdateInbox
from bot.update_inbox import Update as Stored
from storage.models import utcnow
from storage.repositories import zalo_oa as zalo_store

log = logging.getLogger(__name__)

ERR_SIGNATURE = "Sai hoặc thiếu chữ ký của Zalo (X-ZEvent-Signature)."


ERR_BODY = "Yêu cầu không hợp lệ: cần một sự kiện JSON của Zalo OA."


ERR_STALE = "Sự kiện Zalo quá cũ hoặc sai thời gian (timestamp), không được xử lý."


ERR_STARTING = "Kênh Zalo OA đang khởi động, vui lòng thử lại sau."


ERR_STORE = "Chưa lưu được sự kiện, vui lòng gửi lại sau."


class ZaloOaChannel(PlatformChannel):
    """The OA channel: webhook receiver, sender of replies, and outbox sender."""

    channel = CHANNEL

    def __init__(
        self,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        *,
        app_id: str,
        oa_id: str,
        app_secret: str,
        oa_secret_key: str,
        signature_variant: SignatureVariant = "app_id",
        api_base_url: str = "https://openapi.zalo.me",
        oauth_base_url: str = "https://oauth.zaloapp.com",
        secret: bytes,
        initial_access_token: str = "",
        initial_refresh_token: str = "",
        tuning: Tuning | None = None,
        max_event_age_seconds: float = 900.0,
        inbox: UpdateInbox | None = None,
    ) -> None:
        super().__init__()
        self._tuning = tuning or Tuning()
        self.max_event_age = timedelta(seconds=max_event_age_seconds)
        self.app_id = app_id
        self.oa_id = oa_id
        self.signature_variant: SignatureVariant = signature_variant
        self._dispatcher = dispatcher
        self._sessions = sessions
        self._secret_key = oa_secret_key.encode()
        self._initial = (initial_access_token, initial_refresh_token)
        self.client = OaClient(
            sessions,
            TokenCipher(secret),
            oa_id=oa_id,
            app_id=app_id,
            app_secret=app_secret,
            api_base_url=api_base_url,
            oauth_base_url=oauth_base_url,
            secret=secret,
            tuning=self._tuning,
        )
        self.tokens = self.client.tokens
        self._wire(sessions, inbox, secret)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        tuning: Tuning | None = None,
        inbox: UpdateInbox | None = None,
    ) -> ZaloOaChannel:
        """The channel for the ``ZALO_*`` OA settings (the settings check they are complete)."""
        if settings.zalo_app_secret is None or settings.zalo_oa_secret_key is None:
            raise ValueError("ZALO_APP_SECRET and ZALO_OA_SECRET_KEY are not set")
        access = settings.zalo_oa_access_token
        refresh = settings.zalo_oa_refresh_token
        return cls(
            dispatcher,
            sessions,
            app_id=settings.zalo_app_id,
            oa_id=settings.zalo_oa_id,
            app_secret=settings.zalo_app_secret.get_secret_value(),
            oa_secret_key=settings.zalo_oa_secret_key.get_secret_value(),
            signature_variant=settings.zalo_oa_signature_variant,
            api_base_url=settings.zalo_oa_api_base_url,
            oauth_base_url=settings.zalo_oauth_base_url,
            secret=settings.resolved_secret(),
            initial_access_token=access.get_secret_value() if access is not None else "",
            initial_refresh_token=refresh.get_secret_value() if refresh is not None else "",
            tuning=tuning,
            max_event_age_seconds=settings.zalo_oa_max_event_age_seconds,
            inbox=inbox,
        )

    @property
    def tuning(self) -> Tuning:
        return self._tuning

    @tuning.setter
    def tuning(self, value: Tuning) -> None:
        """Timings for this channel, its client and token manager (tests make them short)."""
        self._tuning = value
        self.client.tuning = value

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the HTTP client and store the first token pair if the database has none."""
        await self.client.open()
        await self.tokens.seed(*self._initial)
        self._ready.set()
        await self._open_inbox()
        log.info("Zalo OA channel ready: webhook at %s", WEBHOOK_PATH)

    async def stop(self) -> None:
        """Finish the events already stored (for a bounded time; the rest stays in the inbox
        for the next worker), close the client."""
        await self.drain(self.tuning.drain_timeout)
        await self._close_inbox()
        self._ready.clear()
        await self.client.close()

    async def drain(self, seconds: float | None = None) -> None:
        """Wait until every stored event has been processed and answered (by any worker)."""
        await self._drain_inbox(seconds)

    # ------------------------------------------------------------ receiving

    def register(self, app: web.Application) -> None:
        """Add ``POST /zalo/oa/webhook`` to the server."""
        app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """One event: 401 unless signed with the OA secret key, else 200 once it is stored.

        The event is processed from the inbox after the answer (Zalo's deadline is 2 s); a
        crash in between leaves it stored, for this or another worker to process.
        """
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": ERR_BODY}, status=400, dumps=dumps)
        if not isinstance(body, dict):
            return web.json_response({"error": ERR_BODY}, status=400, dumps=dumps)
        variant = signature_matches(
            request.headers.get(SIGNATURE_HEADER, ""),
            raw,
            body,
            app_id=self.app_id,
            secret_key=self._secret_key,
            variant=self.signature_variant,
        )
        if variant is None:
            log.warning("Zalo OA webhook: request with a missing or wrong signature refused")
            return web.json_response({"error": ERR_SIGNATURE}, status=401, dumps=dumps)
        if self.signature_variant == "either":
            log.info("Zalo OA webhook: signature matched with %s first", variant)
        if not event_is_fresh(body.get("timestamp"), self.max_event_age):
            log.warning("Zalo OA webhook: a signed event outside the time window was refused")
            return web.json_response({"error": ERR_STALE}, status=400, dumps=dumps)
        if not self.ready:
            return web.json_response({"error": ERR_STARTING}, status=503, dumps=dumps)
        event = parse_event(body, self.oa_id)
        if event is not None:
            try:
                await self.inbox.put(CHANNEL.value, [Stored(event.event_id, event.user_id, body)])
            except Exception as exc:
                log.error("Zalo OA webhook: event not stored (%s)", type(exc).__name__)
                return web.json_response({"error": ERR_STORE}, status=503, dumps=dumps)
        return web.json_response({"error": 0, "message": "Success"})

    async def _handle_stored(self, body: object) -> None:
        """An event from the inbox (already verified when it was received)."""
        if not self.ready:
            raise NotReady("the Zalo OA channel is not ready")
        event = parse_event(body if isinstance(body, dict) else {}, self.oa_id)
        if event is not None:
            await self.process(event)

    def _user_ref(self, user_id: str) -> str:
        """A user as it may appear in a log line: a keyed hash, never the id."""
        return self.reachability.ref(user_id)

    async def process(self, event: OaEvent) -> None:
        """Handle one event and send its replies, in arrival order per user. Never raises.

        What the event means for the user's reachability and subscriptions is the
        dispatcher's (``bot/lifecycle.py``); Zalo's interaction window is recorded in the
        same transaction (``before``).
        """
        # The lock is the first thing awaited: tasks start in the order events were received.
        async with self._receive_locks(event.user_id):
            try:
                chat = ChatRef(CHANNEL, event.user_id, event.user_id)
                if event.kind == "message":
                    incoming = Incoming(
                        chat,
                        event.event_id,
                        text=event.text,
                        choice=event.choice,
                        unsupported=event.unsupported,
                    )
                else:
                    kind = LIFECYCLE[event.kind]
                    text = "/start" if kind is EventKind.FOLLOW else ""
                    incoming = Incoming(chat, event.event_id, text=text, kind=kind)

                async def record(session: AsyncSession) -> bool:
                    await self._record(session, event)
                    return True

                replies = await self._dispatcher.handle(incoming, before=record)
                if replies:
                    await self._reply(event.user_id, replies)
            except Exception:
                log.exception("Zalo OA: an event of %s could not be handled", event.kind)

    async def _record(self, session: AsyncSession, event: OaEvent) -> None:
        """Keep Zalo's interaction window up to date: when the user last wrote, and whether
        they follow the OA (a notification outside the window is not attempted)."""
        if event.kind == "unfollow":
            await zalo_store.set_following(session, self.oa_id, event.user_id, False)
        else:
            await zalo_store.record_interaction(session, self.oa_id, event.user_id, event.at)

    # ------------------------------------------------------------ sending

    async def _reply(self, user_id: str, replies: Sequence[Reply]) -> None:
        """Send one turn's replies in order; stop at the first message that cannot go out."""
        async with self._send_locks(user_id):
            try:
                await self._send_all(user_id, render(replies))
            except (OaApiError, TokenError) as exc:
                if isinstance(exc, OaApiError) and exc.code == NOT_FOLLOWING:
                    await self.reachability.mark(user_id, str(exc))
                log.warning("Zalo OA: reply to %s not sent (%s)", self._user_ref(user_id), exc)

    async def _send_all(self, user_id: str, messages: Sequence[OaMessage]) -> None:
        """Send messages in order. A picture or file Zalo will not take (type, size, or a
        refused upload) becomes a short text saying so, and the turn goes on; any other
        failure is raised and stops the turn."""
        for message in messages:
            attachment = message.attachment
            if attachment is not None and not message.fits():
                log.info(
                    "Zalo OA: an attachment of %d bytes is beyond Zalo's limits",
                    len(attachment.content),
                )
                await self.send(user_id, OaMessage(NO_ATTACHMENT.format(name=attachment.name)))
                continue
            try:
                await self.send(user_id, message)
            except OaApiError as exc:
                if attachment is None or exc.window or exc.retryable:
                    raise
                log.warning("Zalo OA: an attachment was refused (%s)", exc)
                await self.send(user_id, OaMessage(NO_ATTACHMENT.format(name=attachment.name)))

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult:
        """Send queued replies (notifications from the outbox) and say how it went.

        Not attempted, and undeliverable, for a user who unfollowed or whose last interaction
        is older than the window; a window error from Zalo is also final.
        """
        if await self.reachability.unreachable(chat_id):
            return DeliveryResult(Delivery.UNDELIVERABLE, "the user unfollowed the OA")
        async with self._sessions() as session:
            seen = await zalo_store.interaction_of(session, self.oa_id, chat_id)
            last = zalo_store.aware(seen.last_interaction_at) if seen is not None else None
            following = seen is not None and seen.following
        now = utcnow()
        if last is None or not following or now - last > self.tuning.window:
            days = "never" if last is None else f"{(now - last).days} days ago"
            log.info(
                "Zalo OA: notification to %s not attempted, outside the interaction window "
                "(last interaction: %s)",
                self._user_ref(chat_id),
                days,
            )
            return DeliveryResult(
                Delivery.UNDELIVERABLE, f"{WINDOW_SKIPPED}: last interaction {days}"
            )
        async with self._send_locks(chat_id):
            try:
                await self._send_all(chat_id, render(replies))
            except TokenError as exc:
                return DeliveryResult(Delivery.RETRY, f"token: {exc}")
            except OaApiError as exc:
                if exc.window:
                    log.info(
                        "Zalo OA: notification to %s refused for the window (%s)",
                        self._user_ref(chat_id),
                        exc,
                    )
                    if exc.code == NOT_FOLLOWING:
                        await self.reachability.mark(chat_id, str(exc))
                    return DeliveryResult(Delivery.UNDELIVERABLE, f"{WINDOW_REFUSED}: {exc}")
                if exc.code in HUMAN_NEEDED_ERRORS:
                    log.error("Zalo OA: sending needs an operator (%s): quota or OA tier", exc)
                if exc.retryable:
                    return DeliveryResult(Delivery.RETRY, str(exc))
                return DeliveryResult(Delivery.UNDELIVERABLE, str(exc))
        return DeliveryResult(Delivery.SENT)

    async def send(self, user_id: str, message: OaMessage) -> dict[str, Any]:
        """One customer-service message (see ``OaClient.send``)."""
        return await self.client.send(user_id, message)
