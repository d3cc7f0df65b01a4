"""The Telegram channel: polling or webhook receiver, replies, and outbox delivery."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    Document,
    InputFile,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.channels.base import (
    PlatformChannel,
    TaskSet,
    secret_matches,
)
from bot.channels.telegram.api import (
    ALLOWED_UPDATES,
    COMMANDS,
    DEFAULT_API_BASE_URL,
    MAX_FILE_BYTES,
    SECRET_HEADER,
    TYPING_REPEAT_SECONDS,
    WEBHOOK_PATH,
    T,
    Tuning,
)
from bot.channels.telegram.client import (
    ChatUnreachable,
    OutgoingLimiter,
    _library_loggers,
    _Redactor,
    describe,
    retry_after_seconds,
)
from bot.channels.telegram.render import NO_PREVIEW, Outgoing, render
from bot.config import Settings
from bot.delivery import Delivery, DeliveryResult
from bot.dispatcher import Dispatcher
from bot.json_text import dumps
from bot.messages import (
    Channel,
    ChatRef,
    EventKind,
    Incoming,
    IncomingFile,
    Reply,
)
from bot.ratelimit import SharedSendLimits
from bot.update_inbox import NotReady, UpdateInbox
from bot.update_inbox import Update as Stored

log = logging.getLogger(__name__)

FILE_TOO_LARGE = (
    "Tệp «{name}» quá lớn ({size}). Tôi chỉ nhận tệp tối đa 5 MB, bạn vui lòng gửi tệp nhỏ hơn."
)


DEFAULT_FILE_NAME = "không tên"


ERR_SECRET = "Sai hoặc thiếu mã bí mật của webhook."  # noqa: S105


ERR_BODY = "Yêu cầu không hợp lệ: cần một bản tin cập nhật JSON của Telegram."


ERR_STARTING = "Kênh Telegram đang khởi động, vui lòng thử lại sau."


ERR_STORE = "Chưa lưu được bản tin cập nhật, vui lòng gửi lại sau."


# Message kinds the assistant cannot read, in the order they are recognised. An animation is
# also a document, a venue also a location, so they come first.
UNSUPPORTED_KINDS = (
    "animation",
    "sticker",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "venue",
    "location",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
)


# Set while an update from the inbox is handled: its replies are sent before the update counts
# as done, so that the chat's next update (perhaps claimed by another worker) cannot overtake
# them. Polled updates hand their replies to background tasks, ordered by this process's locks.
_SEND_BEFORE_DONE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "telegram_send_before_done", default=False
)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


class TelegramChannel(PlatformChannel):
    """Receives updates (polling or webhook), runs them through the dispatcher, sends replies."""

    channel = Channel.TELEGRAM

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        *,
        log_secret: bytes,
        webhook_url: str = "",
        webhook_secret: str = "",
        tuning: Tuning | None = None,
        redactor: _Redactor | None = None,
        inbox: UpdateInbox | None = None,
    ) -> None:
        super().__init__()
        self.bot = bot
        self.webhook_url = webhook_url
        self.tuning = tuning or Tuning()
        self._dispatcher = dispatcher
        self._sessions = sessions
        self._log_secret = log_secret
        self._webhook_secret = webhook_secret.encode()
        self._redactor = redactor
        self._limiter = OutgoingLimiter(self.tuning, self._shared_limits())
        self._sending = TaskSet("telegram")
        self._wire(sessions, inbox, log_secret)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        tuning: Tuning | None = None,
        inbox: UpdateInbox | None = None,
    ) -> TelegramChannel:
        """The channel for ``TELEGRAM_*`` settings (the token must be set)."""
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        token = settings.telegram_bot_token.get_secret_value()
        secret = settings.telegram_webhook_secret
        webhook_secret = secret.get_secret_value() if secret is not None else ""
        # Installed before the Bot exists: its constructor logs its URLs at debug level.
        redactor = _Redactor(token, webhook_secret)
        for logger in _library_loggers():
            logger.addFilter(redactor)
        tuning = tuning or Tuning()
        base_url = settings.telegram_api_base_url.rstrip("/") or DEFAULT_API_BASE_URL
        file_url = base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url
        bot = Bot(
            token,
            base_url=base_url,
            base_file_url=file_url,
            request=HTTPXRequest(
                connection_pool_size=64, read_timeout=15, write_timeout=20, pool_timeout=5
            ),
            get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=10),
        )
        return cls(
            bot,
            dispatcher,
            sessions,
            log_secret=settings.resolved_secret(),
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=webhook_secret,
            tuning=tuning,
            redactor=redactor,
            inbox=inbox,
        )

    def _shared_limits(self) -> SharedSendLimits:
        """Telegram's overall and per-chat limits, counted in the database for all workers."""
        t = self.tuning
        return SharedSendLimits(
            self._sessions,
            secret=self._log_secret,
            name="telegram",
            overall_per_second=t.overall_per_second,
            per_chat_per_second=t.per_chat_per_second,
            per_chat_burst=t.per_chat_burst,
        )

    # ------------------------------------------------------------ lifecycle

    @property
    def uses_webhook(self) -> bool:
        return bool(self.webhook_url)

    async def start(self) -> None:
        """Start in the background: set up with retries, then poll (unless on a webhook).

        Telegram being unreachable at start must not keep the rest of the server down.
        """
        self._limiter = OutgoingLimiter(self.tuning, self._shared_limits())
        self._run_in_background(self._run(), "telegram")
        if self.uses_webhook:
            await self._open_inbox()

    async def stop(self) -> None:
        """Stop polling, let queued replies go out (for a bounded time), close the client."""
        await self._stop_runner()
        await self.drain(self.tuning.drain_timeout)
        await self._close_inbox()
        await self.bot.shutdown()
        self._ready.clear()
        if self._redactor is not None:
            for logger in _library_loggers():
                logger.removeFilter(self._redactor)

    async def drain(self, seconds: float | None = None) -> None:
        """Wait until every stored webhook update has been handled and every reply handed to
        the background has been sent (or given up)."""
        await self._drain_inbox(seconds)
        await self._sending.drain(seconds)

    async def _run(self) -> None:
        if not await self._setup():
            return
        if not self.uses_webhook:
            await self._poll()

    async def _setup(self) -> bool:
        delay = self.tuning.backoff_base
        while True:
            try:
                await self.bot.initialize()
                break
            except InvalidToken:
                # The exception's message holds the token: never log it.
                log.error("Telegram rejected TELEGRAM_BOT_TOKEN: the Telegram channel is off")
                return False
            except TelegramError as exc:
                log.warning(
                    "Telegram unreachable at start (%s); retrying in %.1f s", describe(exc), delay
                )
                await asyncio.sleep(delay)
                delay = self.backoff.after(delay)
        commands = [BotCommand(name, text) for name, text in COMMANDS]
        try:
            await self._call(None, "setMyCommands", lambda: self.bot.set_my_commands(commands))
        except TelegramError as exc:
            log.warning("Telegram: could not set the command menu (%s)", describe(exc))
        try:
            await self._sync_webhook()
        except TelegramError as exc:
            log.error(
                "Telegram: could not %s the webhook (%s)",
                "register" if self.uses_webhook else "delete",
                describe(exc),
            )
        self._ready.set()
        log.info(
            "Telegram channel ready as @%s by %s",
            self.bot.username,
            "webhook" if self.uses_webhook else "long polling",
        )
        return True

    async def _sync_webhook(self) -> None:
        """Register the webhook only when Telegram has another URL; in polling mode delete it."""
        info = await self._call(None, "getWebhookInfo", self.bot.get_webhook_info)
        if self.uses_webhook:
            if info.url == self.webhook_url:
                log.info("Telegram webhook already registered")
                return
            secret = self._webhook_secret.decode()
            await self._call(
                None,
                "setWebhook",
                lambda: self.bot.set_webhook(
                    self.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
                ),
            )
            log.info("Telegram webhook registered")
        elif info.url:
            await self._call(None, "deleteWebhook", self.bot.delete_webhook)
            log.info("Telegram webhook deleted: receiving updates by long polling")

    # ------------------------------------------------------------ receiving

    async def _poll(self) -> None:
        """getUpdates forever; a batch is confirmed (next offset) only once all of it is handled."""
        offset: int | None = None
        delay = self.tuning.backoff_base
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.tuning.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except InvalidToken:
                log.error("Telegram rejected TELEGRAM_BOT_TOKEN: polling stopped")
                return
            except Exception as exc:  # network, 5xx, 409, an unreadable answer: never fatal
                hint = (
                    " (another process polls this bot, or a webhook is set)"
                    if isinstance(exc, Conflict)
                    else ""
                )
                log.warning(
                    "Telegram getUpdates failed%s (%s); retrying in %.1f s",
                    hint,
                    describe(exc),
                    delay,
                )
                await asyncio.sleep(delay)
                delay = self.backoff.after(delay)
                continue
            delay = self.tuning.backoff_base
            if not updates:
                continue
            await asyncio.gather(*(self.process(u) for u in updates))
            offset = updates[-1].update_id + 1

    def register(self, app: web.Application) -> None:
        """Add ``POST /telegram/webhook`` to the server (nothing when polling)."""
        if self.uses_webhook:
            app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """One update from Telegram: 401 unless the secret header matches, 200 once stored.

        Only the secret, the JSON and the update's chat are checked here; the inbox hands the
        update to ``_handle_stored`` on whichever worker claims it.
        """
        if not secret_matches(request, SECRET_HEADER, self._webhook_secret):
            log.warning("Telegram webhook: request with a missing or wrong secret refused")
            return web.json_response({"error": ERR_SECRET}, status=401, dumps=dumps)
        try:
            data = await request.json()
        except ValueError:
            return web.json_response({"error": ERR_BODY}, status=400, dumps=dumps)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.json_response({"error": ERR_BODY}, status=400, dumps=dumps)
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:
            # Acknowledged all the same: Telegram would only redeliver the same bad update.
            log.warning("Telegram webhook: unreadable update dropped (%s)", describe(exc))
            return web.json_response({})
        chat = update.effective_chat
        # An update without a chat has no order to keep: it gets a lane of its own.
        lane = str(chat.id) if chat is not None else f"update:{update.update_id}"
        try:
            await self.inbox.put(
                Channel.TELEGRAM.value, [Stored(str(update.update_id), lane, data)]
            )
        except Exception as exc:
            log.error("Telegram webhook: update not stored (%s)", describe(exc))
            return web.json_response({"error": ERR_STORE}, status=503, dumps=dumps)
        return web.json_response({})

    async def _handle_stored(self, data: object) -> None:
        """An update from the inbox: handled once the bot is set up (else tried again later)."""
        if not await self.wait_ready():
            raise NotReady("the Telegram channel is not ready")
        update = Update.de_json(data if isinstance(data, dict) else {}, self.bot)
        token = _SEND_BEFORE_DONE.set(True)
        try:
            await self.process(update)
        finally:
            _SEND_BEFORE_DONE.reset(token)

    async def process(self, update: Update) -> None:
        """Handle one update up to the dispatcher's commit; its replies go out in the background.

        Updates of one chat are handled one at a time in the order they came (a polled batch
        is processed concurrently across chats). Never raises: a failure is logged, and the
        update counts as handled (the dispatcher has already turned handler errors into an
        apology).
        """
        chat = update.effective_chat
        async with self._receive_locks(chat.id if chat else 0):
            try:
                if update.callback_query is not None:
                    await self._on_callback(update.update_id, update.callback_query)
                elif update.message is not None:
                    await self._on_message(update.update_id, update.message)
                elif update.my_chat_member is not None:
                    await self._on_membership(update)
                # Edited messages, channel posts and the rest are ignored on purpose.
            except Exception:
                log.exception("Telegram update %s could not be handled", update.update_id)

    async def _on_callback(self, update_id: int, query: CallbackQuery) -> None:
        # Answer at once, whatever follows, so that the button stops spinning.
        try:
            await self._call(None, "answerCallbackQuery", query.answer)
        except TelegramError as exc:
            log.info("Telegram: callback query not answered (%s)", describe(exc))
        message = query.message
        if query.data is None or message is None:
            return
        chat_id = message.chat.id
        incoming = Incoming(
            chat=ChatRef(
                Channel.TELEGRAM,
                str(chat_id),
                str(query.from_user.id),
                is_group=message.chat.type != ChatType.PRIVATE,
            ),
            event_id=str(update_id),
            choice=query.data,
            display_name=query.from_user.full_name,
        )
        await self._dispatch(incoming, chat_id, reply_to=None)

    async def _on_message(self, update_id: int, message: Message) -> None:
        chat = message.chat
        user = message.from_user
        if chat.type not in (ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP):
            return
        if user is None or user.is_bot:
            return
        text = message.text or ""
        in_group = chat.type != ChatType.PRIVATE
        if in_group:
            addressed = self._addressed_text(message)
            if addressed is None:
                return
            text = addressed
        ref = ChatRef(
            Channel.TELEGRAM, str(chat.id), str(user.id), is_group=chat.type != ChatType.PRIVATE
        )
        event_id, name = str(update_id), user.full_name
        reply_to = message.message_id if in_group else None
        if message.text is not None:
            incoming = Incoming(ref, event_id, text=text, display_name=name)
        elif message.document is not None and message.animation is None:
            file = await self._read_document(message.document)
            if isinstance(file, IncomingFile):
                incoming = Incoming(ref, event_id, file=file, display_name=name)
            elif file == "document":
                incoming = Incoming(ref, event_id, unsupported=file, display_name=name)
            else:  # too large: refused without downloading it, answered through the dispatcher
                incoming = Incoming(ref, event_id, refusal=file, display_name=name)
        else:
            kind = next((k for k in UNSUPPORTED_KINDS if getattr(message, k, None)), None)
            if kind is None:
                return  # a service message: members joined, title changed...
            incoming = Incoming(ref, event_id, unsupported=kind, display_name=name)
        await self._dispatch(incoming, chat.id, reply_to=reply_to)

    def _addressed_text(self, message: Message) -> str | None:
        """In a group: the text without the bot's mention, or None when not meant for the bot.

        Addressed are commands (not those naming another bot), mentions of the bot, and replies
        to the bot's messages. Privacy mode already filters most of the rest on Telegram's side.
        """
        me = self.bot.bot
        text = message.text or message.caption or ""
        addressed = (
            message.reply_to_message is not None
            and message.reply_to_message.from_user is not None
            and message.reply_to_message.from_user.id == me.id
        )
        cut: list[tuple[int, int]] = []
        entities = message.parse_entities() if message.text else message.parse_caption_entities()
        for entity, value in entities.items():
            if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
                target = value.partition("@")[2]
                if target and target.casefold() != (me.username or "").casefold():
                    return None
                addressed = True
            elif self._is_me(entity, value):
                addressed = True
                cut.append((entity.offset, entity.length))
        if not addressed:
            return None
        # Entity offsets count UTF-16 code units.
        units = text.encode("utf-16-le")
        for offset, length in sorted(cut, reverse=True):
            units = units[: offset * 2] + units[(offset + length) * 2 :]
        return " ".join(units.decode("utf-16-le").split())

    def _is_me(self, entity: MessageEntity, value: str) -> bool:
        """A mention of this bot: "@username", or a text mention of its user."""
        me = self.bot.bot
        if entity.type == MessageEntity.MENTION:
            return bool(me.username) and value.casefold() == f"@{me.username}".casefold()
        if entity.type == MessageEntity.TEXT_MENTION:
            return entity.user is not None and entity.user.id == me.id
        return False

    async def _on_membership(self, update: Update) -> None:
        """The user blocked or unblocked the bot (or it left or joined a group): a lifecycle
        event for the dispatcher (``bot/lifecycle.py``), which answers nothing."""
        member = update.my_chat_member
        if member is None:
            return
        status = member.new_chat_member.status
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            kind = EventKind.BLOCKED
        elif status in (
            ChatMemberStatus.MEMBER,
            ChatMemberStatus.ADMINISTRATOR,
            ChatMemberStatus.RESTRICTED,
        ):
            kind = EventKind.REACHABLE
        else:
            return
        chat = member.chat
        ref = ChatRef(
            Channel.TELEGRAM,
            str(chat.id),
            str(member.from_user.id),
            is_group=chat.type != ChatType.PRIVATE,
        )
        await self._dispatcher.handle(Incoming(ref, str(update.update_id), kind=kind))

    async def _read_document(self, document: Document) -> IncomingFile | str:
        """The document's bytes; the refusal to send for one over 5 MB (not downloaded); the
        unsupported kind "document" when Telegram would not hand the file over."""
        name = document.file_name or DEFAULT_FILE_NAME
        size = document.file_size or 0
        if size <= MAX_FILE_BYTES:
            try:
                file = await self._call(None, "getFile", lambda: self.bot.get_file(document))
                size = file.file_size or size
                if size <= MAX_FILE_BYTES:
                    content = bytes(await file.download_as_bytearray())
                    size = len(content)
                    if size <= MAX_FILE_BYTES:
                        return IncomingFile(name, content, document.mime_type or "")
            except TelegramError as exc:
                log.warning("Telegram: a document could not be downloaded (%s)", describe(exc))
                return "document"
        return FILE_TOO_LARGE.format(name=name, size=_megabytes(size))

    async def _dispatch(self, incoming: Incoming, chat_id: int, *, reply_to: int | None) -> None:
        """Run the dispatcher (typing shown if it is slow), then queue its replies."""
        done = asyncio.Event()
        typing = asyncio.create_task(self._typing(chat_id, done))
        try:
            replies = await self._dispatcher.handle(incoming)
        finally:
            done.set()
            # Let an action already on its way arrive before the replies (bounded: a slow
            # Telegram must not hold the replies back).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(typing, 2.0)
        if replies and _SEND_BEFORE_DONE.get():
            await self._deliver(chat_id, replies, reply_to)
        elif replies:
            self._spawn(self._deliver(chat_id, replies, reply_to))

    async def _typing(self, chat_id: int, done: asyncio.Event) -> None:
        delay = self.tuning.typing_after
        while True:
            try:
                await asyncio.wait_for(done.wait(), delay)
                return
            except TimeoutError:
                pass
            try:
                await self._limiter.acquire(chat_id, message=False)
                await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:
                log.debug("Telegram: typing action failed (%s)", describe(exc))
                return
            delay = TYPING_REPEAT_SECONDS

    # ------------------------------------------------------------ sending

    def _spawn(self, coro: Awaitable[None]) -> None:
        self._sending.spawn(coro)

    def _chat_ref(self, chat_id: int) -> str:
        """A chat as it may appear in a log line: a keyed hash, never the id."""
        return self.reachability.ref(str(chat_id))

    async def _deliver(self, chat_id: int, replies: Iterable[Reply], reply_to: int | None) -> None:
        """Send one turn's replies in order; stop at the first message that cannot go out."""
        async with self._send_locks(chat_id):
            sends = [out for reply in replies for out in render(reply)]
            for i, out in enumerate(sends):
                try:
                    await self._send(chat_id, out, reply_to if i == 0 else None)
                except ChatUnreachable:
                    return
                except TelegramError as exc:
                    log.warning(
                        "Telegram: reply to chat %s not sent (%s)",
                        self._chat_ref(chat_id),
                        describe(exc),
                    )
                    return

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> DeliveryResult:
        """Send queued replies (notifications from the outbox) and say how it went.

        A chat marked unreachable (the user blocked the bot) is not tried; a refusal that will
        not change (403, 400) is final; flood waits and retries happen inside ``_call``.
        """
        try:
            target = int(chat_id)
        except ValueError:
            return DeliveryResult(Delivery.UNDELIVERABLE, "not a Telegram chat id")
        if await self.reachability.unreachable(chat_id):
            return DeliveryResult(Delivery.UNDELIVERABLE, "the user blocked the bot")
        async with self._send_locks(target):
            try:
                for reply in replies:
                    for out in render(reply):
                        await self._send(target, out, None)
            except ChatUnreachable as exc:
                return DeliveryResult(Delivery.UNDELIVERABLE, describe(exc))
            except BadRequest as exc:
                return DeliveryResult(Delivery.UNDELIVERABLE, describe(exc))
            except TelegramError as exc:
                return DeliveryResult(Delivery.RETRY, describe(exc))
        return DeliveryResult(Delivery.SENT)

    async def _send(self, chat_id: int, out: Outgoing, reply_to: int | None) -> None:
        params = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        attachment = out.attachment
        if out.kind == "text" or attachment is None:
            await self._call(
                chat_id,
                "sendMessage",
                lambda: self.bot.send_message(
                    chat_id,
                    out.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=out.markup,
                    link_preview_options=NO_PREVIEW,
                    reply_parameters=params,
                ),
                message=True,
            )
            return
        upload = InputFile(attachment.content, filename=attachment.name)
        caption = out.html or None
        if out.kind == "photo":
            await self._call(
                chat_id,
                "sendPhoto",
                lambda: self.bot.send_photo(
                    chat_id,
                    upload,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=out.markup,
                    reply_parameters=params,
                ),
                message=True,
            )
        else:
            await self._call(
                chat_id,
                "sendDocument",
                lambda: self.bot.send_document(
                    chat_id,
                    upload,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=out.markup,
                    reply_parameters=params,
                ),
                message=True,
            )

    async def _call(
        self,
        chat_id: int | None,
        method: str,
        call: Callable[[], Awaitable[T]],
        *,
        message: bool = False,
    ) -> T:
        """One Bot API call within the limits: 429 waits ``retry_after``, network errors and 5xx
        are retried with exponential backoff, 403 marks the chat unreachable (no retry), any
        other refusal (400...) is raised at once."""
        failures = floods = 0
        while True:
            await self._limiter.acquire(chat_id, message=message)
            try:
                return await call()
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                self._limiter.pause(wait)
                floods += 1
                if floods > self.tuning.max_flood_waits:
                    raise
                log.warning("Telegram flood control on %s: waiting %.1f s", method, wait)
            except Forbidden as exc:
                if chat_id is None:
                    raise
                await self.reachability.mark(str(chat_id), str(exc))
                raise ChatUnreachable(str(exc)) from exc
            except BadRequest:
                raise
            except NetworkError as exc:  # connection failures, timeouts, 5xx
                failures += 1
                if self.backoff.exhausted(failures):
                    raise
                delay = self.backoff.delay(failures)
                log.warning(
                    "Telegram %s failed (%s); retry %d in %.2f s",
                    method,
                    describe(exc),
                    failures,
                    delay,
                )
                await asyncio.sleep(delay)
