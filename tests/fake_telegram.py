"""A local fake of the Telegram Bot API, served over real HTTP on loopback (aiohttp).

The real python-telegram-bot client talks to it through ``TELEGRAM_API_BASE_URL``. Paths are
the real ones (``/bot<TOKEN>/<method>``, files at ``/file/bot<TOKEN>/<path>``); requests are
read the way Telegram reads them (form fields or multipart, JSON-encoded values, or a JSON
body). Every call is recorded; faults (429 with ``retry_after``, 5xx, 403) can be injected for
the next N calls of a method or for one chat. Like Telegram, it parses ``parse_mode=HTML`` and
refuses bad markup, texts over 4,096 characters and callback data over 64 bytes, so that a
rendering bug fails loudly in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

JSON_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "reply_parameters",
    "link_preview_options",
    "drop_pending_updates",
    "max_connections",
    "show_alert",
    "cache_time",
    "disable_notification",
}
ALLOWED_TAGS = re.compile(
    r"</?(b|strong|i|em|u|ins|s|strike|del|code|pre|tg-spoiler|blockquote|a|span)"
    r"(\s[^<>]*)?>"
)
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class Call:
    """One request the bot made: method, decoded parameters, uploaded files, outcome."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    status: int = 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


@dataclass
class Fault:
    method: str
    status: int
    times: int | None
    retry_after: float | None = None
    chat_id: int | None = None
    description: str | None = None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.method not in (method, "*"):
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


def _strip_html(text: str) -> str:
    """The text a user sees, as Telegram returns it; refuses what Telegram would refuse."""
    without_tags = ALLOWED_TAGS.sub("", text)
    if "<" in without_tags or ">" in without_tags:
        raise ApiError(400, "Bad Request: can't parse entities: unsupported start tag")
    if "&" in ENTITY.sub("", without_tags):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped ampersand")
    return html.unescape(without_tags)


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class FakeTelegram:
    """The fake server: start it, point the bot at ``base_url``, push updates, read calls."""

    token: str
    username: str = "motcua_test_bot"
    bot_id: int = 7654321
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_allowed_updates: list[str] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    # The bot's messages per chat, as Telegram stores them (text already parsed).
    sent: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._queue: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._confirmed = 0
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._closing = False
        self._server: TestServer | None = None

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._server = TestServer(app)
        await self._server.start_server(access_log=None)  # its paths hold the token
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._server is not None:
            await self._server.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}/bot"

    # ------------------------------------------------------------ scripting

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*": any) with an error
        (``times=None``: until ``clear_faults``), optionally only for one chat."""
        self.faults.append(Fault(method, status, times, retry_after, chat_id, description))

    def clear_faults(self) -> None:
        self.faults.clear()

    def slow(self, method: str, seconds: float) -> None:
        """Answer every call of ``method`` only after ``seconds`` (a slow Telegram)."""
        self.delays[method] = seconds

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def user(self, user_id: int, first_name: str = "Lan") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}

    def chat(self, chat_id: int, chat_type: str = "") -> dict[str, Any]:
        if not chat_type:
            chat_type = "private" if chat_id > 0 else "supergroup"
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Lan"}
        return {"id": chat_id, "type": chat_type, "title": "Tổ dân phố 5"}

    def message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user_id: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A user's message as Telegram sends it; commands and mentions get their entities."""
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": self.user(user_id or abs(chat_id)),
        }
        if text is not None:
            msg["text"] = text
            entities = []
            if text.startswith("/"):
                entities.append(
                    {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                )
            for m in re.finditer(r"@\w+", text):
                offset = _length(text[: m.start()])
                entities.append({"type": "mention", "offset": offset, "length": _length(m[0])})
            if entities:
                msg["entities"] = entities
        msg.update(fields)
        return msg

    def message_update(
        self, chat_id: int, text: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        return {
            "update_id": self.next_update_id(),
            "message": self.message(chat_id, text, **fields),
        }

    def callback_update(
        self, chat_id: int, data: str, *, message: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A tap on a button of ``message`` (by default the bot's last message in the chat)."""
        if message is None:
            message = self.sent[chat_id][-1]
        update_id = self.next_update_id()
        return {
            "update_id": update_id,
            "callback_query": {
                "id": f"cbq-{update_id}",
                "from": self.user(abs(chat_id)),
                "chat_instance": f"ci-{chat_id}",
                "message": message,
                "data": data,
            },
        }

    def membership_update(self, chat_id: int, status: str) -> dict[str, Any]:
        """The bot's own membership changed: "kicked" when a user blocks it, "member" again
        when they unblock it."""
        bot_user = {"id": self.bot_id, "is_bot": True, "first_name": "Một cửa"}
        new: dict[str, Any] = {"user": bot_user, "status": status}
        if status == "kicked":
            new["until_date"] = 0
        return {
            "update_id": self.next_update_id(),
            "my_chat_member": {
                "chat": self.chat(chat_id),
                "from": self.user(abs(chat_id)),
                "date": int(time.time()),
                "old_chat_member": {"user": bot_user, "status": "member"},
                "new_chat_member": new,
            },
        }

    async def enqueue(self, *updates: dict[str, Any]) -> None:
        """Queue updates for getUpdates (wakes a waiting long poll)."""
        async with self._changed:
            self._queue.extend(updates)
            self._changed.notify_all()

    async def wait_confirmed(self, update_id: int, seconds: float = 10) -> None:
        """Until the bot has confirmed ``update_id`` (a getUpdates with a higher offset)."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self._confirmed > update_id), seconds
            )

    def add_file(self, file_id: str, content: bytes) -> None:
        self.files[file_id] = content

    # ------------------------------------------------------------ reading

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        return self.sent.get(chat_id, [])

    # ------------------------------------------------------------ HTTP

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.json()
            return (body if isinstance(body, dict) else {}), files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
                continue
            if isinstance(value, bytes):
                value = value.decode()
            if key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            params[key] = value
        params.update({k: request.query[k] for k in request.query})
        return params, files

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method, params, files, time.monotonic())
        self.calls.append(call)
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            self._inject(method, params)
            handler: Callable[[dict[str, Any], dict[str, bytes]], Any] | None = getattr(
                self, f"_m_{method}", None
            )
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params, files)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            call.status = exc.status
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.status,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.status)
        return web.json_response({"ok": True, "result": result})

    def _inject(self, method: str, params: dict[str, Any]) -> None:
        for fault in self.faults:
            if not fault.matches(method, params):
                continue
            if fault.times is not None:
                if fault.times <= 0:
                    continue
                fault.times -= 1
            description = fault.description or DESCRIPTIONS.get(fault.status, "Error")
            parameters = None
            if fault.status == 429:
                retry_after = fault.retry_after or 1
                description = description.format(retry_after=retry_after)
                parameters = {"retry_after": retry_after}
            raise ApiError(fault.status, description, parameters)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.calls.append(Call("download", {"file_path": path}, {}, time.monotonic()))
        content = self.files.get(path.rsplit("/", 1)[-1])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content)

    # ------------------------------------------------------------ methods

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Một cửa",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._me()

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._changed:
            if offset > 0:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
                self._confirmed = max(self._confirmed, offset)
                self._changed.notify_all()
            if not self._queue and timeout > 0 and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._queue) or self._closing),
                        timeout,
                    )
            return list(self._queue[:limit])

    def _store(self, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
        self.sent.setdefault(chat_id, []).append(message)
        return message

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        markup = params.get("reply_markup")
        if markup:
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data", "")
                    if not 1 <= len(data.encode()) <= 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                    if not button.get("text"):
                        raise ApiError(400, "Bad Request: text buttons are unallowed")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": self._me(),
            **content,
        }
        if markup:
            message["reply_markup"] = markup
        if params.get("reply_parameters"):
            message["reply_to_message_id"] = params["reply_parameters"].get("message_id")
        return self._store(chat_id, message)

    def _text(self, params: dict[str, Any], key: str, limit: int) -> str:
        raw = str(params.get(key, ""))
        text = _strip_html(raw) if params.get("parse_mode") == "HTML" else raw
        if _length(text) > limit:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        text = self._text(params, "text", 4096)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return self._new_message(params, text=text)

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        caption = self._text(params, "caption", 1024)
        size = len(files.get("photo", b""))
        photo = [
            {
                "file_id": "photo-1",
                "file_unique_id": "p1",
                "width": 1,
                "height": 1,
                "file_size": size,
            }
        ]
        return self._new_message(params, photo=photo, **({"caption": caption} if caption else {}))

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        caption = self._text(params, "caption", 1024)
        document = {
            "file_id": "doc-1",
            "file_unique_id": "d1",
            "file_size": len(files.get("document", b"")),
        }
        return self._new_message(
            params, document=document, **({"caption": caption} if caption else {})
        )

    def _find(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        for message in self.sent.get(chat_id, []):
            if message["message_id"] == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._find(params)
        message["text"] = self._text(params, "text", 4096)
        message["edit_date"] = int(time.time())
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._find(params)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}",
        }

    def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.commands = list(params.get("commands") or [])
        return True

    def _m_getMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.commands

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        self.webhook_url = url
        self.webhook_secret = str(params.get("secret_token", ""))
        self.webhook_allowed_updates = list(params.get("allowed_updates") or [])
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook_url = ""
        self.webhook_secret = ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": 0 if self.webhook_url else len(self._queue),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            info["allowed_updates"] = self.webhook_allowed_updates
        return info
