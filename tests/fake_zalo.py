"""Local fakes of Zalo's OA API v3 and Bot API, served over real HTTP on loopback (aiohttp).

They implement what ``../shared/zalo.md`` §6 asks of an offline emulator, as far as motcua
uses it:

``FakeZaloOA`` (one server for both the API host and the OAuth host)
- signs events like Zalo (``X-ZEvent-Signature: mac=sha256(app_id + raw + timestamp +
  OA secret key)``) and POSTs them to our webhook, recording status and latency; it also
  tracks each user's follow state and last interaction, as Zalo does;
- ``POST /v3.0/oa/message/cs``: the bare ``access_token`` header (missing, unknown or expired:
  -216), body shapes (text at most 2,000 characters after NFC, at most 5 ``oa.query.*``
  buttons: else -201), the window (not following: -213; no interaction for 7 days: -230),
  always HTTP 200 with the error in the body; a transcript per user;
- ``POST /v4/oa/access_token``: the ``secret_key`` header and form body, refresh-token rotation
  (single use: a spent or unknown refresh token gets -14014), configurable access-token TTL;
- fault injection per path: an error code in the body, an HTTP status, a malformed answer, a
  delay; for the next N calls, optionally for one user.

``FakeZaloBot``
- ``/bot<TOKEN>/<method>``: getMe, getUpdates (long poll, one update, 408 when none, refused
  while a webhook is set), setWebhook (HTTPS, secret of 8-256 characters), deleteWebhook,
  getWebhookInfo, sendMessage (text of 1-2,000 characters), sendChatAction (``typing`` only);
  ``{ok, result}`` / ``{ok: false, error_code, description}``;
- pushes updates to our webhook with ``X-Bot-Api-Secret-Token``, wrapped or bare.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

DAY_MS = 24 * 3600 * 1000
WINDOW_MS = 7 * DAY_MS
CS_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"
MAX_IMAGE_BYTES = 1_000_000  # Zalo: images JPG/PNG up to 1 MB, files up to 5 MB (zalo.md)
MAX_FILE_BYTES = 5_000_000
BUTTON_TYPES = {"oa.query.show", "oa.query.hide", "oa.open.url", "oa.open.phone", "oa.open.sms"}


def now_ms() -> int:
    return int(time.time() * 1000)


def mac(first: str, raw: bytes, timestamp: str, secret_key: str) -> str:
    """Zalo's webhook signature, without the ``mac=`` prefix."""
    return hashlib.sha256(
        first.encode() + raw + timestamp.encode() + secret_key.encode()
    ).hexdigest()


@dataclass
class Fault:
    """What the next ``times`` calls of ``path`` get instead of the normal answer."""

    path: str
    error: int | None = None
    http_status: int | None = None
    malformed: bool = False
    delay: float = 0.0
    times: int | None = 1
    user_id: str | None = None

    def matches(self, path: str, user_id: str | None) -> bool:
        if self.path != path or (self.times is not None and self.times <= 0):
            return False
        return self.user_id is None or self.user_id == user_id


@dataclass
class OaCall:
    """One request our adapter made: path, headers, decoded body, and the error answered."""

    path: str
    headers: dict[str, str]
    body: Any
    at: float
    error: int = 0
    http_status: int = 200

    @property
    def user_id(self) -> str | None:
        if isinstance(self.body, dict):
            recipient = self.body.get("recipient") or {}
            return recipient.get("user_id")
        return None


@dataclass
class Upload:
    """A picture or file uploaded to the OA, referred to by its id in a later message."""

    kind: str  # "image" or "file"
    name: str
    content: bytes
    mime_type: str


@dataclass
class ZaloUser:
    """What Zalo knows about a user of the OA."""

    following: bool = True
    last_interaction_ms: int = field(default_factory=now_ms)


@dataclass
class WebhookDelivery:
    """One event the fake posted to our webhook: the answer and how long it took."""

    body: dict[str, Any]
    status: int
    latency: float
    answer: str


class OaError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FakeZaloOA:
    """The fake OA platform: start it, point the settings at ``base_url``, post events."""

    def __init__(
        self,
        *,
        app_id: str,
        oa_id: str,
        app_secret: str,
        oa_secret_key: str,
        access_ttl: int = 90000,
    ) -> None:
        self.app_id = app_id
        self.oa_id = oa_id
        self.app_secret = app_secret
        self.oa_secret_key = oa_secret_key
        self.access_ttl = access_ttl
        self.initial_access_token = "AT-initial-" + secrets.token_hex(12)
        self.initial_refresh_token = "RT-initial-" + secrets.token_hex(12)
        # access token -> expiry (time.time()); the single refresh token currently valid
        self.access_tokens: dict[str, float] = {self.initial_access_token: time.time() + 3600}
        self.refresh_token = self.initial_refresh_token
        self.spent_refresh_tokens: list[str] = []
        self.rotations = 0
        self.users: dict[str, ZaloUser] = {}
        self.sent: dict[str, list[dict[str, Any]]] = {}
        self.uploads: dict[str, Upload] = {}
        self.calls: list[OaCall] = []
        self.faults: list[Fault] = []
        self.delays: dict[str, float] = {}
        self.deliveries: list[WebhookDelivery] = []
        self.webhook_url = ""
        self._msg_ids = itertools.count(1)
        self._server: TestServer | None = None
        self._client: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeZaloOA:
        app = web.Application()
        app.router.add_post(CS_PATH, self._cs)
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post(UPLOAD_IMAGE_PATH, self._upload)
        app.router.add_post(UPLOAD_FILE_PATH, self._upload)
        app.router.add_get("/v2.0/oa/getoa", self._getoa)
        self._server = TestServer(app)
        await self._server.start_server(access_log=None)
        self._client = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()
        if self._server is not None:
            await self._server.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    # ------------------------------------------------------------ scripting

    def fail(
        self,
        path: str,
        *,
        error: int | None = None,
        http_status: int | None = None,
        malformed: bool = False,
        delay: float = 0.0,
        times: int | None = 1,
        user_id: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``path`` badly (``times=None``: until cleared)."""
        self.faults.append(Fault(path, error, http_status, malformed, delay, times, user_id))

    def slow(self, path: str, seconds: float) -> None:
        """Answer every call of ``path`` only after ``seconds``."""
        self.delays[path] = seconds

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now expired (-216 on use)."""
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    def user(self, user_id: str) -> ZaloUser:
        return self.users.setdefault(user_id, ZaloUser())

    def messages(self, user_id: str) -> list[dict[str, Any]]:
        return self.sent.get(user_id, [])

    def calls_of(self, path: str, user_id: str | None = None) -> list[OaCall]:
        return [
            c for c in self.calls if c.path == path and (user_id is None or c.user_id == user_id)
        ]

    @property
    def issued_tokens(self) -> list[str]:
        """Every token this fake handed out or accepted (for "never logged" checks)."""
        return [*self.access_tokens, self.refresh_token, *self.spent_refresh_tokens]

    # ------------------------------------------------------------ events

    def _base_event(self, name: str, user_id: str) -> dict[str, Any]:
        return {
            "event_name": name,
            "app_id": self.app_id,
            "sender": {"id": user_id},
            "recipient": {"id": self.oa_id},
            "timestamp": str(now_ms()),
            "user_id_by_app": "9" + user_id[1:],
        }

    def next_msg_id(self) -> str:
        return f"{next(self._msg_ids):04d}" + secrets.token_hex(8)

    def text_event(self, user_id: str, text: str) -> dict[str, Any]:
        """A user typed ``text`` (a button tap is the same event carrying the payload)."""
        event = self._base_event("user_send_text", user_id)
        event["message"] = {"text": text, "msg_id": self.next_msg_id()}
        return event

    def media_event(self, user_id: str, kind: str) -> dict[str, Any]:
        """An image, sticker, file, location... as chatwoot's production parser reads them."""
        payloads: dict[str, dict[str, Any]] = {
            "image": {"url": "https://photo.zdn.vn/x.jpg", "thumbnail": "https://photo.zdn.vn/t"},
            "sticker": {"url": "https://zalo-api.zadn.vn/sticker", "id": "bd3d"},
            "file": {"url": "https://f.zdn.vn/don.pdf", "name": "don.pdf", "size": "20480"},
            "location": {"coordinates": {"latitude": "10.03", "longitude": "105.78"}},
        }
        event = self._base_event(f"user_send_{kind}", user_id)
        event["message"] = {
            "msg_id": self.next_msg_id(),
            "text": "",
            "attachments": [{"type": kind, "payload": payloads.get(kind, {})}],
        }
        return event

    def follow_event(self, user_id: str, name: str = "follow") -> dict[str, Any]:
        """``follow`` / ``unfollow``: no sender or recipient, a ``follower`` and ``oa_id``."""
        return {
            "app_id": self.app_id,
            "oa_id": self.oa_id,
            "user_id_by_app": "9" + user_id[1:],
            "event_name": name,
            "timestamp": str(now_ms()),
            "source": "oa_profile",
            "follower": {"id": user_id},
        }

    def sign(self, raw: bytes, body: dict[str, Any], *, first: str | None = None) -> str:
        return "mac=" + mac(first or self.app_id, raw, str(body["timestamp"]), self.oa_secret_key)

    async def post_event(
        self,
        body: dict[str, Any],
        *,
        signature: str | None = None,
        raw: bytes | None = None,
        first: str | None = None,
    ) -> WebhookDelivery:
        """POST one event to ``webhook_url`` as Zalo does; ``signature``/``raw`` forge it.

        Zalo's own bookkeeping follows a delivered event: the user's last interaction, and
        whether they follow the OA.
        """
        assert self._client is not None and self.webhook_url
        genuine = signature is None and raw is None
        raw = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        header = signature if signature is not None else self.sign(raw, body, first=first)
        if header:
            headers["X-ZEvent-Signature"] = header
        started = time.monotonic()
        async with self._client.post(self.webhook_url, data=raw, headers=headers) as resp:
            answer = await resp.text()
            status = resp.status
        delivery = WebhookDelivery(body, status, time.monotonic() - started, answer)
        self.deliveries.append(delivery)
        user_id = (body.get("follower") or body.get("sender") or {}).get("id")
        if user_id and genuine:
            user = self.user(user_id)
            if body["event_name"] == "unfollow":
                user.following = False
            else:
                user.following = user.following or body["event_name"] == "follow"
                user.last_interaction_ms = now_ms()
        return delivery

    # ------------------------------------------------------------ HTTP

    def _fault(self, path: str, user_id: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(path, user_id):
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    async def _faulty(self, path: str, call: OaCall) -> web.Response | None:
        if path in self.delays:
            await asyncio.sleep(self.delays[path])
        fault = self._fault(path, call.user_id)
        if fault is None:
            return None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.malformed:
            call.http_status = fault.http_status or 200
            return web.Response(
                text="<html>502 Bad Gateway</html>",
                status=call.http_status,
                content_type="text/html",
            )
        if fault.http_status is not None and fault.error is None:
            call.http_status = fault.http_status
            return web.Response(text="Service Unavailable", status=fault.http_status)
        if fault.error is not None:
            call.error = fault.error
            call.http_status = fault.http_status or 200
            body = {"error": fault.error, "message": f"Injected error {fault.error}"}
            return web.json_response(body, status=call.http_status)
        return None

    async def _cs(self, request: web.Request) -> web.Response:
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        call = OaCall(CS_PATH, dict(request.headers), body, time.monotonic())
        self.calls.append(call)
        faulty = await self._faulty(CS_PATH, call)
        if faulty is not None:
            return faulty
        try:
            data = self._send(request.headers.get("access_token", ""), body)
        except OaError as exc:
            call.error = exc.code
            return web.json_response({"error": exc.code, "message": exc.message})
        return web.json_response({"error": 0, "message": "Success", "data": data})

    def _send(self, token: str, body: Any) -> dict[str, Any]:
        expiry = self.access_tokens.get(token)
        if not token or expiry is None:
            raise OaError(-216, "Access token is invalid")
        if expiry < time.time():
            raise OaError(-216, "Access token has expired")
        if not isinstance(body, dict):
            raise OaError(-201, "Parameters are invalid: body")
        recipient, message = body.get("recipient"), body.get("message")
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            raise OaError(-201, "Parameters are invalid: recipient or message")
        user_id = recipient.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise OaError(-201, "Parameters are invalid: recipient.user_id")
        text = message.get("text")
        attachment = message.get("attachment")
        media = self._media(attachment)
        if media is not None:  # a picture (text optional, its title) or a file (no text)
            text = text if isinstance(text, str) else ""
        elif not isinstance(text, str) or not text.strip():
            raise OaError(-201, "Parameters are invalid: message.text")
        if len(unicodedata.normalize("NFC", text)) > 2000:
            raise OaError(-201, "Parameters are invalid: text is longer than 2000 characters")
        buttons = [] if media is not None else self._buttons(attachment)
        user = self.users.get(user_id)
        if user is None or not user.following:
            raise OaError(-213, "User has not followed the OA")
        if now_ms() - user.last_interaction_ms > WINDOW_MS:
            raise OaError(-230, "User has not interacted with the OA in the last 7 days")
        message_id = secrets.token_hex(10)
        self.sent.setdefault(user_id, []).append(
            {
                "text": text,
                "buttons": buttons,
                "message_id": message_id,
                "image": media if media is not None and media.kind == "image" else None,
                "file": media if media is not None and media.kind == "file" else None,
            }
        )
        return {"message_id": message_id, "user_id": user_id, "quota": {"remain": 100}}

    def _media(self, attachment: Any) -> Upload | None:
        """The upload a ``media`` template (image) or a ``file`` attachment refers to; None
        for other messages. An unknown or expired id is Zalo's -100."""
        if not isinstance(attachment, dict):
            return None
        payload = attachment.get("payload") or {}
        if not isinstance(payload, dict):
            raise OaError(-201, "Parameters are invalid: attachment.payload")
        if attachment.get("type") == "file":
            key, kind = payload.get("token"), "file"
        elif attachment.get("type") == "template" and payload.get("template_type") == "media":
            elements = payload.get("elements")
            if not isinstance(elements, list) or len(elements) != 1:
                raise OaError(-201, "Parameters are invalid: one media element")
            element = elements[0] if isinstance(elements[0], dict) else {}
            if element.get("media_type") != "image":
                raise OaError(-201, "Parameters are invalid: media_type")
            key, kind = element.get("attachment_id"), "image"
        else:
            return None
        upload = self.uploads.get(key) if isinstance(key, str) else None
        if upload is None or upload.kind != kind:
            raise OaError(-100, "Attachment is expired or not found")
        return upload

    async def _upload(self, request: web.Request) -> web.Response:
        """``upload/image`` -> ``data.attachment_id``; ``upload/file`` -> ``data.token``: a
        multipart body whose field ``file`` holds the bytes, with the bare token header."""
        path = request.path
        call = OaCall(path, dict(request.headers), None, time.monotonic())
        self.calls.append(call)
        faulty = await self._faulty(path, call)
        if faulty is not None:
            return faulty
        token = request.headers.get("access_token", "")
        if self.access_tokens.get(token, 0) < time.time():
            call.error = -216
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        field_ = None
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field_ = form.get("file")
        if not isinstance(field_, web.FileField):
            call.error = -201
            return web.json_response({"error": -201, "message": "Parameters are invalid: file"})
        content = field_.file.read()
        image = path == UPLOAD_IMAGE_PATH
        call.body = {"name": field_.filename, "size": len(content), "type": field_.content_type}
        limit = MAX_IMAGE_BYTES if image else MAX_FILE_BYTES
        wrong_type = image and field_.content_type not in ("image/png", "image/jpeg")
        if not content or len(content) > limit or wrong_type:
            call.error = -201
            return web.json_response(
                {"error": -201, "message": "Parameters are invalid: file type or size"}
            )
        key = secrets.token_hex(12)
        kind = "image" if image else "file"
        self.uploads[key] = Upload(kind, field_.filename, content, field_.content_type)
        data = {"attachment_id": key} if image else {"token": key}
        return web.json_response({"error": 0, "message": "Success", "data": data})

    def _buttons(self, attachment: Any) -> list[dict[str, Any]]:
        if attachment is None:
            return []
        if not isinstance(attachment, dict) or attachment.get("type") != "template":
            raise OaError(-201, "Parameters are invalid: attachment")
        buttons = (attachment.get("payload") or {}).get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 5:
            raise OaError(-201, "Parameters are invalid: 1 to 5 buttons")
        for button in buttons:
            title, kind, payload = button.get("title"), button.get("type"), button.get("payload")
            if not isinstance(title, str) or not 1 <= len(title) <= 100:
                raise OaError(-201, "Parameters are invalid: button title")
            if kind not in BUTTON_TYPES:
                raise OaError(-201, "Parameters are invalid: button type")
            if kind.startswith("oa.query.") and (
                not isinstance(payload, str) or not 1 <= len(payload) <= 1000
            ):
                raise OaError(-201, "Parameters are invalid: button payload")
        return buttons

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        call = OaCall(TOKEN_PATH, dict(request.headers), form, time.monotonic())
        self.calls.append(call)
        faulty = await self._faulty(TOKEN_PATH, call)
        if faulty is not None:
            return faulty
        if request.headers.get("secret_key") != self.app_secret:
            call.error = -14002
            return web.json_response({"error": -14002, "error_name": "Invalid secret key"})
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            call.error = -14001
            return web.json_response({"error": -14001, "error_name": "Invalid parameter"})
        if form.get("refresh_token") != self.refresh_token:
            call.error = -14014
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        self.spent_refresh_tokens.append(self.refresh_token)
        access = "AT-" + secrets.token_hex(16)
        self.refresh_token = "RT-" + secrets.token_hex(16)
        self.access_tokens[access] = time.time() + self.access_ttl
        self.rotations += 1
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": self.refresh_token,
                "expires_in": str(self.access_ttl),
            }
        )

    async def _getoa(self, request: web.Request) -> web.Response:
        if self.access_tokens.get(request.headers.get("access_token", ""), 0) < time.time():
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        data = {"oa_id": self.oa_id, "name": "Một cửa Cần Thơ"}
        return web.json_response({"error": 0, "message": "Success", "data": data})


# ---------------------------------------------------------------- Bot API


@dataclass
class BotCall:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True
    error_code: int = 0


class FakeZaloBot:
    """The fake Zalo Bot API: poll or push updates, read what the bot sent."""

    def __init__(self, token: str, *, wrapped: bool = True) -> None:
        self.token = token
        self.wrapped = wrapped
        self.calls: list[BotCall] = []
        self.faults: list[Fault] = []
        self.sent: dict[str, list[str]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        self._queue: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._closing = False
        self._ids = itertools.count(1)
        self._server: TestServer | None = None
        self._client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FakeZaloBot:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        self._server = TestServer(app)
        await self._server.start_server(access_log=None)  # its paths hold the token
        self._client = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._client is not None:
            await self._client.close()
        if self._server is not None:
            await self._server.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    def fail(self, method: str, status: int, *, times: int | None = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``ok: false`` and ``status``."""
        self.faults.append(Fault(method, error=status, times=times))

    def calls_of(self, method: str) -> list[BotCall]:
        return [c for c in self.calls if c.method == method]

    def messages(self, chat_id: str) -> list[str]:
        return self.sent.get(chat_id, [])

    # ------------------------------------------------------------ updates

    def update(
        self, chat_id: str, text: str | None = None, *, kind: str = "text"
    ) -> dict[str, Any]:
        """A private-chat update as the docs show it (unwrapped)."""
        message: dict[str, Any] = {
            "from": {"id": chat_id, "display_name": "Lan", "is_bot": False},
            "chat": {"id": chat_id, "chat_type": "PRIVATE"},
            "message_id": f"{next(self._ids):04d}" + secrets.token_hex(8),
            "date": now_ms(),
        }
        if kind == "text":
            message["text"] = text or ""
        elif kind == "image":
            message["photo_url"] = "https://photo.zdn.vn/x.jpg"
            message["caption"] = text or ""
        return {"event_name": f"message.{kind}.received", "message": message}

    def envelope(self, update: dict[str, Any], wrapped: bool | None = None) -> dict[str, Any]:
        wrap = self.wrapped if wrapped is None else wrapped
        return {"ok": True, "result": update} if wrap else update

    async def enqueue(self, *updates: dict[str, Any]) -> None:
        """Queue updates for getUpdates (wakes a waiting long poll)."""
        async with self._changed:
            self._queue.extend(updates)
            self._changed.notify_all()

    async def wait_sent(
        self,
        chat_id: str,
        count: int,
        seconds: float = 10,
        *,
        last: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """Until the bot has sent ``count`` messages to the chat, the latest matching ``last``
        when given (polling is asynchronous)."""

        def done() -> bool:
            sent = self.messages(chat_id)
            return len(sent) >= count and (last is None or last(sent[-1]))

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(done), seconds)
        return self.messages(chat_id)

    async def push(
        self,
        url: str,
        update: dict[str, Any],
        *,
        secret: str | None = None,
        wrapped: bool | None = None,
    ) -> int:
        """POST an update to our webhook with the secret header (``secret=""``: none)."""
        assert self._client is not None
        secret = self.webhook_secret if secret is None else secret
        headers = {"X-Bot-Api-Secret-Token": secret} if secret else {}
        body = self.envelope(update, wrapped)
        async with self._client.post(url, json=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    # ------------------------------------------------------------ HTTP

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await request.json()
        except ValueError:
            params = {}
        call = BotCall(method, params if isinstance(params, dict) else {}, time.monotonic())
        self.calls.append(call)

        def error(code: int, description: str) -> web.Response:
            call.ok, call.error_code = False, code
            body = {"ok": False, "error_code": code, "description": description}
            return web.json_response(body, status=code if code in (401, 404) else 200)

        if request.match_info["token"] != self.token:
            return error(401, "Unauthorized")
        for fault in self.faults:
            if fault.matches(method, None):
                if fault.times is not None:
                    fault.times -= 1
                return error(fault.error or 500, "Injected error")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return error(404, "Method not found")
        try:
            result = await handler(call.params)
        except OaError as exc:
            return error(exc.code, exc.message)
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return {
            "id": "7e1b2c",
            "account_name": "motcua.bot",
            "account_type": "BASIC",
            "can_join_groups": False,
            "display_name": "Một cửa",
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook_url:
            raise OaError(409, "Conflict: a webhook is set; delete it to use getUpdates")
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            if not self._queue and timeout > 0 and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._queue) or self._closing),
                        timeout,
                    )
            if not self._queue:
                raise OaError(408, "Request timeout")
            return self._queue.pop(0)

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        url, secret = str(params.get("url") or ""), str(params.get("secret_token") or "")
        if not url.startswith("https://"):
            raise OaError(400, "Bad Request: webhook url must be https")
        if not 8 <= len(secret) <= 256:
            raise OaError(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook_url, self.webhook_secret = url, secret
        return {"url": url, "updated_at": now_ms()}

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = ""
        return {"url": "", "updated_at": now_ms()}

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook_url, "updated_at": now_ms()}

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id, text = str(params.get("chat_id") or ""), params.get("text")
        if not chat_id or not isinstance(text, str) or not 1 <= len(text) <= 2000:
            raise OaError(400, "Bad Request: text must be 1-2000 characters")
        async with self._changed:
            self.sent.setdefault(chat_id, []).append(text)
            self._changed.notify_all()
        return {"message_id": secrets.token_hex(10), "date": now_ms()}

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        if params.get("action") != "typing":
            raise OaError(400, "Bad Request: only the typing action is supported")
        return True
