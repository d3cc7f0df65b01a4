"""Zalo Official Account (OA API v3): signed webhooks in, customer-service messages out.

Wire facts and their sources are in ``../shared/zalo.md``; what this adapter does with them:

- ``POST /zalo/oa/webhook`` checks ``X-ZEvent-Signature: mac=sha256(app_id + raw body +
  timestamp + OA secret key)`` over the exact bytes received, in constant time (the ``oa_id``
  variant some code uses can be switched on by a setting), stores the event in the inbox
  (``bot.update_inbox``) and answers 200 once it is committed: Zalo wants its answer within
  2 s and retries otherwise, and an event it got its 200 for must survive this process. The
  inbox hands the event back to ``process`` on whichever worker claims it, in order per user.
  A retry carries the same ``msg_id``, stored and processed once.
- Button taps arrive as ordinary text carrying the button's payload; the payload ends with a
  ``[#value]`` marker that is mapped back to the choice's value.
- Replies go through ``/v3.0/oa/message/cs`` with the bare ``access_token`` header. Zalo reports
  errors in the body, even with HTTP 200, so every answer's ``error`` is read.
- The access token is refreshed shortly before it expires and once when Zalo calls it invalid.
  The refresh token is single-use: the new pair is committed to the database before the new
  access token is used, under a row lock, so two processes never burn the same refresh token.
- Zalo only accepts messages within 7 days of the user's last interaction: the time of each
  user's last event is stored, and a notification outside the window is not attempted.

Tokens and secrets never reach a log line; users appear there as keyed hashes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import aiohttp
from aiohttp import web
from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import storage.models_zalo as zalo_store
from bot.channels import textsplit
from bot.channels.base import CHOOSE, Backoff, ChatLocks, Reachability, menu_text, numbered_turn
from bot.channels.textsplit import utf16_length
from bot.config import Settings
from bot.delivery import Delivery, DeliveryResult
from bot.dispatcher import Dispatcher
from bot.messages import Attachment, Channel, ChatRef, Choice, EventKind, Incoming, Reply
from bot.ratelimit import SharedRateLimiter, wait_for
from bot.update_inbox import NotReady, UpdateInbox
from bot.update_inbox import Update as Stored
from storage.models import utcnow

log = logging.getLogger(__name__)

CHANNEL = Channel.ZALO_OA
WEBHOOK_PATH = "/zalo/oa/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
CS_MESSAGE_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"  # noqa: S105 (a path)
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"  # multipart ``file`` -> data.attachment_id
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"  # multipart ``file`` -> data.token

# Zalo's upload limits (zalo.md §2.3): images JPG/PNG up to 1 MB, files up to 5 MB.
MAX_IMAGE_BYTES = 1_000_000
MAX_FILE_BYTES = 5_000_000
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})

MAX_TEXT_CHARS = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE_CHARS = 100
MAX_PAYLOAD_CHARS = 1000

# Error codes in the body of an OA API answer (zalo.md §2.5).
TOKEN_ERRORS = frozenset({-216, -220})
RETRYABLE_ERRORS = frozenset({-32, -100})
NOT_FOLLOWING = -213
WINDOW_ERRORS = frozenset({NOT_FOLLOWING, -217, -227, -230, -232, -234, -244})
HUMAN_NEEDED_ERRORS = frozenset({-211, -221, -224})
REFRESH_TOKEN_REJECTED = -14014
TRANSIENT = 1  # our own code for network failures, 5xx and unreadable answers

# In ``outbox.last_error``, so that statistics can count window refusals across processes.
WINDOW_SKIPPED = "zalo-window-skipped"
WINDOW_REFUSED = "zalo-window-refused"

# Media events: what the citizen sent, for the "I only read text" answer.
MEDIA_KINDS = {
    "user_send_image": "image",
    "user_send_gif": "gif",
    "user_send_sticker": "sticker",
    "user_send_file": "file",
    "user_send_location": "location",
    "user_send_audio": "audio",
    "user_send_video": "video",
    "user_send_link": "link",
    "user_send_business_card": "business_card",
}

NUMBER_HINT = "Bạn bấm nút bên dưới hoặc gõ số thứ tự để chọn."
ERR_SIGNATURE = "Sai hoặc thiếu chữ ký của Zalo (X-ZEvent-Signature)."
ERR_BODY = "Yêu cầu không hợp lệ: cần một sự kiện JSON của Zalo OA."
ERR_STALE = "Sự kiện Zalo quá cũ hoặc sai thời gian (timestamp), không được xử lý."
ERR_STARTING = "Kênh Zalo OA đang khởi động, vui lòng thử lại sau."
ERR_STORE = "Chưa lưu được sự kiện, vui lòng gửi lại sau."
NO_ATTACHMENT = (
    "Zalo không nhận tệp «{name}». Bạn vui lòng lấy tệp này qua Telegram hoặc trang web."
)

SignatureVariant = Literal["app_id", "oa_id", "either"]


@dataclass(frozen=True, slots=True)
class Tuning:
    """Timings and limits; Zalo allows 4,000 requests a minute per app."""

    window: timedelta = timedelta(days=7)
    refresh_margin: timedelta = timedelta(minutes=10)
    # A pasted first access token's remaining life is unknown: assume a short one (a refresh
    # costs nothing, the new pair is stored), and -216 triggers one anyway.
    initial_lifetime: timedelta = timedelta(hours=1)
    requests_per_minute: float = 3000.0
    http_timeout: float = 15.0
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    ready_timeout: float = 10.0
    drain_timeout: float = 10.0


# ---------------------------------------------------------------- rendering (pure)


def text_length(text: str) -> int:
    """Length as Zalo counts it (UTF-16 code units)."""
    return utf16_length(text)


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Pieces of at most ``limit`` units, cut between paragraphs when at all possible."""
    return textsplit.split_text(text, limit)


def button_title(label: str, limit: int = MAX_BUTTON_TITLE_CHARS) -> str:
    """A button title Zalo accepts: one line, at most 100 characters, cut at a word."""
    label = " ".join(label.split()) or "…"
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + "…"


_PAYLOAD_MARK = re.compile(r"\[#([^\[\]\s]{1,64})\]\s*$")


def choice_payload(choice: Choice) -> str:
    """What an ``oa.query.show`` button makes the user send: the label (shown in the chat, so
    it must read well) and our value in a ``[#value]`` marker that ``choice_of`` finds again."""
    value = choice.value
    if not 1 <= len(value.encode()) <= 64 or _PAYLOAD_MARK.search(f"[#{value}]") is None:
        raise ValueError(f"choice value {value!r} cannot be a Zalo button payload")
    return f"{button_title(choice.label, MAX_PAYLOAD_CHARS - len(value) - 4)} [#{value}]"


def choice_of(text: str) -> str | None:
    """The choice value carried by a button tap's text, or None for typed text."""
    found = _PAYLOAD_MARK.search(text)
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class OaMessage:
    """One customer-service message: text and at most five ``oa.query.show`` buttons, or one
    picture (uploaded first, sent as a ``media`` template), or one file (uploaded first)."""

    text: str
    buttons: tuple[Choice, ...] = ()
    image: Attachment | None = None
    document: Attachment | None = None

    @property
    def attachment(self) -> Attachment | None:
        return self.image or self.document

    @property
    def upload_path(self) -> str:
        """Where this message's attachment is uploaded before it is sent."""
        return UPLOAD_IMAGE_PATH if self.image is not None else UPLOAD_FILE_PATH

    def fits(self) -> bool:
        """Whether Zalo accepts this message's attachment (type and size) at all."""
        if self.image is not None:
            image = self.image
            return image.mime_type in IMAGE_TYPES and 0 < len(image.content) <= MAX_IMAGE_BYTES
        if self.document is not None:
            return 0 < len(self.document.content) <= MAX_FILE_BYTES
        return True

    def body(self, user_id: str, upload: str = "") -> dict[str, Any]:
        """The JSON body of ``/v3.0/oa/message/cs`` for this message; ``upload`` is what the
        upload of its attachment answered (an image's ``attachment_id``, a file's ``token``)."""
        message: dict[str, Any] = {}
        if self.text:
            message["text"] = self.text
        if self.image is not None:
            message["attachment"] = {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "image", "attachment_id": upload}],
                },
            }
        elif self.document is not None:
            message["attachment"] = {"type": "file", "payload": {"token": upload}}
        elif self.buttons:
            message["attachment"] = {
                "type": "template",
                "payload": {
                    "buttons": [
                        {
                            "title": button_title(c.label),
                            "type": "oa.query.show",
                            "payload": choice_payload(c),
                        }
                        for c in self.buttons
                    ]
                },
            }
        return {"recipient": {"user_id": user_id}, "message": message}


def render(replies: Iterable[Reply]) -> list[OaMessage]:
    """The messages for one turn.

    Up to five choices become buttons under the last piece of their reply's text. A longer list
    is also written out, numbered across the turn, with the first five as buttons: typing a
    number picks any of them. A reply's picture, then its file, follow its text as messages
    of their own (the chart of /thongke, the workbook of /baocao).
    """
    out: list[OaMessage] = []
    for reply, items in numbered_turn(replies, listed=lambda r: len(r.choices) > MAX_BUTTONS):
        choices = reply.choices
        text = menu_text(reply.text, items, hint=NUMBER_HINT)
        pieces = split_text(text) or ([CHOOSE] if choices else [])
        buttons = tuple(choices[:MAX_BUTTONS])
        for i, piece in enumerate(pieces):
            out.append(OaMessage(piece, buttons if i == len(pieces) - 1 else ()))
        if reply.image is not None:
            out.append(OaMessage("", image=reply.image))
        if reply.document is not None:
            out.append(OaMessage("", document=reply.document))
    return out


# ---------------------------------------------------------------- webhook parsing (pure)


def expected_mac(first: str, raw_body: bytes, timestamp: str, secret_key: bytes) -> str:
    """sha256(first + raw body + timestamp + OA secret key), hex: a plain hash, not an HMAC."""
    return hashlib.sha256(first.encode() + raw_body + timestamp.encode() + secret_key).hexdigest()


def signature_matches(
    header: str,
    raw_body: bytes,
    body: Mapping[str, Any],
    *,
    app_id: str,
    secret_key: bytes,
    variant: SignatureVariant,
) -> str | None:
    """Which variant ("app_id" or "oa_id") the ``X-ZEvent-Signature`` header matches, or None.

    Every candidate is compared (in constant time), so timing does not tell which one failed.
    """
    given = header.strip().removeprefix("mac=").strip().lower().encode()
    timestamp = body.get("timestamp")
    if not given or timestamp is None or not secret_key:
        return None
    candidates: list[tuple[str, str]] = []
    if variant in ("app_id", "either"):
        candidates.append(("app_id", app_id))
    if variant in ("oa_id", "either"):
        oa_id = event_oa_id(body)
        if oa_id:
            candidates.append(("oa_id", oa_id))
    matched = None
    for name, first in candidates:
        mac = expected_mac(first, raw_body, str(timestamp), secret_key).encode()
        if hmac.compare_digest(given, mac) and matched is None:
            matched = name
    return matched


def event_oa_id(body: Mapping[str, Any]) -> str:
    """The OA an event is for: ``recipient.id`` on user events, ``oa_id`` on the others."""
    if isinstance(body.get("oa_id"), str | int):
        return str(body["oa_id"])
    recipient = body.get("recipient")
    if isinstance(recipient, dict) and recipient.get("id") is not None:
        return str(recipient["id"])
    return ""


OaEventKind = Literal["message", "follow", "unfollow", "interaction"]

# What a lifecycle event is for the dispatcher (``bot/lifecycle.py``).
LIFECYCLE = {
    "follow": EventKind.FOLLOW,
    "unfollow": EventKind.UNFOLLOW,
    "interaction": EventKind.REACHABLE,  # tapped "Nhắn tin": the window opens again
}


@dataclass(frozen=True, slots=True)
class OaEvent:
    """A webhook event reduced to what motcua acts on."""

    kind: OaEventKind
    user_id: str
    event_id: str
    at: datetime
    text: str = ""
    choice: str | None = None
    unsupported: str = ""


def event_time(raw: object, now: datetime | None = None) -> datetime:
    """The event's ``timestamp`` (epoch milliseconds, usually a string), never in the future."""
    now = now or utcnow()
    try:
        at = datetime.fromtimestamp(int(str(raw)) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return min(at, now)


def event_is_fresh(raw: object, max_age: timedelta, now: datetime | None = None) -> bool:
    """Whether a signed event's ``timestamp`` lies within ``max_age`` of now (either side).

    The signature covers the timestamp, so a captured event cannot be re-dated: refusing old
    ones stops a replay of a genuine event long after it was sent.
    """
    now = now or utcnow()
    try:
        at = datetime.fromtimestamp(int(str(raw)) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return False
    return abs(at - now) <= max_age


def parse_event(body: Mapping[str, Any], oa_id: str) -> OaEvent | None:
    """What to do with a (verified) webhook body; None for events motcua ignores.

    Ignored: the OA's own echoes (``oa_send_*``), delivery and seen receipts, anonymous
    visitors, answers to ``request_user_info``, and events for another OA of the same app.
    """
    name = str(body.get("event_name") or "")
    timestamp = str(body.get("timestamp") or "")
    at = event_time(body.get("timestamp"))
    target = event_oa_id(body)
    if target and target != oa_id:
        log.warning("Zalo OA: an event for another OA was ignored (check ZALO_OA_ID)")
        return None
    if name in ("follow", "unfollow"):
        follower = body.get("follower")
        user_id = str(follower.get("id") or "") if isinstance(follower, dict) else ""
        if not user_id:
            return None
        kind: OaEventKind = "follow" if name == "follow" else "unfollow"
        return OaEvent(kind, user_id, f"{name}:{user_id}:{timestamp}", at)
    if name == "user_click_chatnow":  # tapped "Nhắn tin": counts as an interaction
        user_id = str(body.get("user_id") or "")
        if not user_id:
            return None
        return OaEvent("interaction", user_id, f"{name}:{user_id}:{timestamp}", at)
    if not name.startswith("user_send_"):
        return None
    sender = body.get("sender")
    user_id = str(sender.get("id") or "") if isinstance(sender, dict) else ""
    message = body.get("message")
    if not user_id or not isinstance(message, dict):
        return None
    event_id = str(message.get("msg_id") or f"{name}:{user_id}:{timestamp}")
    if name == "user_send_text":
        text = str(message.get("text") or "")
        choice = choice_of(text)
        if choice is not None:
            return OaEvent("message", user_id, event_id, at, choice=choice)
        return OaEvent("message", user_id, event_id, at, text=text)
    media = MEDIA_KINDS.get(name, name.removeprefix("user_send_"))
    return OaEvent("message", user_id, event_id, at, unsupported=media)


# ---------------------------------------------------------------- tokens


class TokenCipher:
    """Seals tokens for the database: encrypted and authenticated with keys derived from the
    server secret, using the standard library only (HMAC-SHA256 as the keystream generator in
    counter mode, then an HMAC-SHA256 tag over nonce and ciphertext: encrypt-then-MAC).

    A dump of the database then does not let anyone write as the OA. Changing SECRET_KEY makes
    the stored pair unreadable: the channel then seeds a new one from the settings.
    """

    VERSION = "v1"

    def __init__(self, secret: bytes) -> None:
        self._enc = hmac.new(secret, b"motcua/zalo-tokens/encrypt", hashlib.sha256).digest()
        self._mac = hmac.new(secret, b"motcua/zalo-tokens/mac", hashlib.sha256).digest()

    def _stream(self, nonce: bytes, size: int) -> bytes:
        blocks = (size + 31) // 32
        return b"".join(
            hmac.new(self._enc, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest()
            for i in range(blocks)
        )[:size]

    def seal(self, plain: str) -> str:
        data = plain.encode()
        nonce = secrets.token_bytes(16)
        cipher = bytes(a ^ b for a, b in zip(data, self._stream(nonce, len(data)), strict=True))
        tag = hmac.new(self._mac, self.VERSION.encode() + nonce + cipher, hashlib.sha256).digest()
        return f"{self.VERSION}.{base64.urlsafe_b64encode(nonce + cipher + tag).decode()}"

    def open(self, sealed: str) -> str:
        """The plain token; ValueError when the value was not sealed with this secret."""
        version, _, encoded = sealed.partition(".")
        if version != self.VERSION:
            raise ValueError("unknown token format")
        try:
            raw = base64.urlsafe_b64decode(encoded.encode())
        except ValueError as exc:
            raise ValueError("corrupt token") from exc
        if len(raw) < 48:
            raise ValueError("corrupt token")
        nonce, cipher, tag = raw[:16], raw[16:-32], raw[-32:]
        expected = hmac.new(
            self._mac, self.VERSION.encode() + nonce + cipher, hashlib.sha256
        ).digest()
        if not hmac.compare_digest(tag, expected):
            raise ValueError("token sealed with another key")
        plain = bytes(a ^ b for a, b in zip(cipher, self._stream(nonce, len(cipher)), strict=True))
        return plain.decode()


class TokenError(Exception):
    """No usable access token: none stored, unreadable, or the refresh was refused."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class OaTokens:
    """The OA's access token, refreshed before expiry (or on demand) across processes.

    Each process caches the token it last read; a refresh locks the database row, re-reads it
    (another process may have refreshed meanwhile: then its token is used), calls the token
    endpoint with the stored refresh token and commits the new pair before anyone uses it.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        *,
        oa_id: str,
        app_id: str,
        app_secret: str,
        oauth_base_url: str,
        http: Callable[[], aiohttp.ClientSession],
        tuning: Tuning,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._oa_id = oa_id
        self._app_id = app_id
        self._app_secret = app_secret
        self._url = oauth_base_url.rstrip("/") + TOKEN_PATH
        self._http = http
        self.tuning = tuning
        self._cached: tuple[str, datetime] | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0  # refreshes done by this process (for tests and logs)

    def _fresh(self, expires_at: datetime) -> bool:
        return zalo_store.aware(expires_at) - utcnow() > self.tuning.refresh_margin

    def _readable(self, row: zalo_store.ZaloToken) -> bool:
        try:
            self._cipher.open(row.access_token)
            self._cipher.open(row.refresh_token)
        except ValueError:
            return False
        return True

    async def seed(self, access_token: str, refresh_token: str) -> None:
        """Store the settings' first pair when the database has none (or only an unreadable
        one, after a change of SECRET_KEY); a stored pair always wins over the settings."""
        if not access_token and not refresh_token:
            async with self._sessions() as session:
                row = await zalo_store.load_tokens(session, self._oa_id)
            if row is None:
                log.warning(
                    "Zalo OA: no tokens yet; set ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN"
                )
            return
        now = utcnow()
        # No access token: an expiry in the past makes the first send refresh.
        expires_at = now + self.tuning.initial_lifetime if access_token else now
        sealed_access = self._cipher.seal(access_token)
        sealed_refresh = self._cipher.seal(refresh_token)
        async with self._sessions() as session, session.begin():
            row = await zalo_store.load_tokens(session, self._oa_id, lock=True)
            if row is None:
                await zalo_store.insert_tokens(
                    session, self._oa_id, sealed_access, sealed_refresh, expires_at
                )
                log.info("Zalo OA: first token pair stored from the settings")
                return
            if self._readable(row):
                return
            row.access_token, row.refresh_token = sealed_access, sealed_refresh
            row.expires_at, row.updated_at = expires_at, now
            log.warning(
                "Zalo OA: the stored tokens could not be read (SECRET_KEY changed?) and were "
                "replaced by ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN"
            )

    def forget(self) -> None:
        """Drop the cached token: the next use reads the database."""
        self._cached = None

    async def access_token(self) -> str:
        """A token valid for at least ``refresh_margin``, refreshing it first if need be."""
        cached = self._cached
        if cached is not None and self._fresh(cached[1]):
            return cached[0]
        async with self._sessions() as session:
            row = await zalo_store.load_tokens(session, self._oa_id)
            stored = (row.access_token, row.expires_at) if row is not None else None
        if stored is None:
            raise TokenError("no Zalo OA token stored: set ZALO_OA_ACCESS_TOKEN/REFRESH_TOKEN")
        try:
            access = self._cipher.open(stored[0])
        except ValueError as exc:
            raise TokenError("the stored Zalo OA token cannot be read") from exc
        if access and self._fresh(stored[1]):
            self._cached = (access, zalo_store.aware(stored[1]))
            return access
        return await self.refresh(stale=access)

    async def refresh(self, stale: str) -> str:
        """A new access token to replace ``stale`` (the one found expired or refused).

        If another task or process already replaced it, its token is used and the refresh
        token is not spent again.
        """
        async with self._lock:
            cached = self._cached
            if cached is not None and cached[0] != stale and self._fresh(cached[1]):
                return cached[0]
            async with self._sessions() as session, session.begin():
                row = await zalo_store.load_tokens(session, self._oa_id, lock=True)
                if row is None:
                    raise TokenError("no Zalo OA token stored")
                try:
                    access = self._cipher.open(row.access_token)
                    refresh_token = self._cipher.open(row.refresh_token)
                except ValueError as exc:
                    raise TokenError("the stored Zalo OA tokens cannot be read") from exc
                if access and access != stale and self._fresh(row.expires_at):
                    self._cached = (access, zalo_store.aware(row.expires_at))
                    return access  # refreshed by another process in the meantime
                access, new_refresh, expires_at = await self._exchange(refresh_token)
                row.access_token = self._cipher.seal(access)
                row.refresh_token = self._cipher.seal(new_refresh)
                row.expires_at = expires_at
                row.updated_at = utcnow()
            # Committed: the new pair is safe before the new access token is used.
            self._cached = (access, expires_at)
            self.refreshes += 1
            log.info(
                "Zalo OA: access token refreshed, valid until %s",
                expires_at.isoformat("T", "minutes"),
            )
            return access

    async def _exchange(self, refresh_token: str) -> tuple[str, str, datetime]:
        """Spend the refresh token at ``/v4/oa/access_token``; never logs what it sends."""
        if not refresh_token:
            raise TokenError("no Zalo OA refresh token stored")
        form = {
            "refresh_token": refresh_token,
            "app_id": self._app_id,
            "grant_type": "refresh_token",
        }
        try:
            async with self._http().post(
                self._url,
                data=form,
                headers={"secret_key": self._app_secret},
                timeout=aiohttp.ClientTimeout(total=self.tuning.http_timeout),
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TokenError(f"token endpoint unreachable ({type(exc).__name__})") from exc
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise TokenError(f"unreadable answer from the token endpoint (HTTP {status})")
        access, new_refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not isinstance(new_refresh, str) or not access:
            code = _int(data.get("error"))
            reason = str(data.get("message") or data.get("error_name") or "")[:120]
            if code == REFRESH_TOKEN_REJECTED:
                log.error(
                    "Zalo OA: the refresh token was refused as used or invalid (%s). Mint a new "
                    "pair (API Explorer or OAuth) and set ZALO_OA_ACCESS_TOKEN and "
                    "ZALO_OA_REFRESH_TOKEN with the zalo_tokens row deleted",
                    code,
                )
            raise TokenError(f"token refresh refused: error {code} {reason}".strip(), code)
        try:
            lifetime = int(str(data.get("expires_in") or 3600))
        except ValueError:
            lifetime = 3600
        return access, new_refresh, utcnow() + timedelta(seconds=max(lifetime, 60))


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


# ---------------------------------------------------------------- API errors


class OaApiError(Exception):
    """A refusal from the OA API (the ``error`` of its body, or TRANSIENT for our failures)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"error {code}: {message}")
        self.code = code
        self.message = message

    @property
    def window(self) -> bool:
        """The user cannot be messaged now: not a follower, no interaction within 7 days..."""
        return self.code in WINDOW_ERRORS

    @property
    def retryable(self) -> bool:
        """Worth trying again later (the message is fine, the moment was not)."""
        return (
            self.code == TRANSIENT
            or self.code in RETRYABLE_ERRORS
            or self.code in TOKEN_ERRORS
            or self.code in HUMAN_NEEDED_ERRORS
        )


# ---------------------------------------------------------------- the HTTP client


class OaClient:
    """The OA API over HTTP: JSON calls and multipart uploads with the bare ``access_token``
    header (kept fresh by ``OaTokens``), within the per-minute budget shared by every worker,
    retried by one backoff policy."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        *,
        oa_id: str,
        app_id: str,
        app_secret: str,
        api_base_url: str,
        oauth_base_url: str,
        secret: bytes,
        tuning: Tuning,
    ) -> None:
        self._sessions = sessions
        self._api = api_base_url.rstrip("/")
        self._secret = secret
        self._tuning = tuning
        self._http_session: aiohttp.ClientSession | None = None
        self._limiter = AsyncLimiter(tuning.requests_per_minute, 60)
        self.tokens = OaTokens(
            sessions,
            cipher,
            oa_id=oa_id,
            app_id=app_id,
            app_secret=app_secret,
            oauth_base_url=oauth_base_url,
            http=self.http,
            tuning=tuning,
        )

    @property
    def tuning(self) -> Tuning:
        return self._tuning

    @tuning.setter
    def tuning(self, value: Tuning) -> None:
        self._tuning = value
        self.tokens.tuning = value

    @property
    def backoff(self) -> Backoff:
        t = self._tuning
        return Backoff(t.backoff_base, t.backoff_max, t.max_retries)

    def http(self) -> aiohttp.ClientSession:
        if self._http_session is None:
            raise RuntimeError("the Zalo OA client is not open")
        return self._http_session

    async def open(self) -> None:
        self._limiter = AsyncLimiter(self.tuning.requests_per_minute, 60)
        self._http_session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._http_session is not None:
            await self._http_session.close()
            self._http_session = None

    async def send(self, user_id: str, message: OaMessage) -> dict[str, Any]:
        """One customer-service message; returns Zalo's ``data`` (with ``message_id``).

        A message with a picture or a file uploads it first (``upload/image`` answers an
        ``attachment_id``, ``upload/file`` a ``token``) and then sends it.
        """
        upload = ""
        attachment = message.attachment
        if attachment is not None:
            data = await self._call(message.upload_path, attachment)
            key = "attachment_id" if message.image is not None else "token"
            upload = str(data.get(key) or "")
            if not upload:
                raise OaApiError(TRANSIENT, f"upload answered no {key}")
        return await self._call(CS_MESSAGE_PATH, message.body(user_id, upload))

    async def _call(self, path: str, payload: dict[str, Any] | Attachment) -> dict[str, Any]:
        """One OA API call (JSON, or a multipart upload of an attachment); Zalo's ``data``.

        An invalid-token error refreshes the token and retries once; rate limits, network
        failures, 5xx and unreadable answers are retried with exponential backoff; any other
        error (read from the body, whatever the HTTP status) is raised as ``OaApiError``.
        """
        refreshed = False
        failures = 0
        while True:
            token = await self.tokens.access_token()
            try:
                answer = await self._post(path, payload, token)
                code = _int(answer.get("error", 0))
                if code == 0:
                    data = answer.get("data")
                    return data if isinstance(data, dict) else {}
                error = OaApiError(code, str(answer.get("message") or "")[:200])
            except OaApiError as exc:
                error = exc
            if error.code in TOKEN_ERRORS and not refreshed:
                log.info("Zalo OA: access token refused (%s); refreshing", error.code)
                await self.tokens.refresh(stale=token)
                refreshed = True
                continue
            if error.code != TRANSIENT and error.code not in RETRYABLE_ERRORS:
                raise error
            failures += 1
            if self.backoff.exhausted(failures):
                raise error
            delay = self.backoff.delay(failures)
            log.warning("Zalo OA call failed (%s); retry %d in %.2f s", error, failures, delay)
            await asyncio.sleep(delay)

    async def _post(
        self, path: str, payload: dict[str, Any] | Attachment, token: str
    ) -> dict[str, Any]:
        """POST JSON (or an attachment as the multipart field ``file``) with the bare
        ``access_token`` header; network failures, 5xx, 429 and unreadable answers become
        ``OaApiError(TRANSIENT)``."""
        await self._limiter.acquire()
        await wait_for(  # the same per-minute budget counted across every worker
            SharedRateLimiter(
                self._sessions,
                secret=self._secret,
                name="zalo-oa",
                limit=max(1, int(self.tuning.requests_per_minute)),
                window_seconds=60.0,
            )
        )
        body: dict[str, Any] = {}
        if isinstance(payload, Attachment):
            form = aiohttp.FormData()
            form.add_field(
                "file", payload.content, filename=payload.name, content_type=payload.mime_type
            )
            body["data"] = form
        else:
            body["json"] = payload
        try:
            async with self.http().post(
                self._api + path,
                headers={"access_token": token},
                timeout=aiohttp.ClientTimeout(total=self.tuning.http_timeout),
                **body,
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OaApiError(TRANSIENT, f"network: {type(exc).__name__}") from exc
        if status >= 500 or status == 429:
            raise OaApiError(TRANSIENT, f"HTTP {status}")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise OaApiError(TRANSIENT, f"unreadable answer (HTTP {status})")
        return answer


# ---------------------------------------------------------------- the channel


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


class ZaloOaChannel:
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
        self._ready = asyncio.Event()
        self.inbox = inbox or UpdateInbox(sessions, secret=secret)
        self.inbox.route(CHANNEL.value, self._handle_stored)
        self._receive_locks = ChatLocks()
        self._send_locks = ChatLocks()
        self.reachability = Reachability(sessions, CHANNEL, secret)

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

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def start(self) -> None:
        """Open the HTTP client and store the first token pair if the database has none."""
        await self.client.open()
        await self.tokens.seed(*self._initial)
        self._ready.set()
        await self.inbox.start(CHANNEL.value)
        log.info("Zalo OA channel ready: webhook at %s", WEBHOOK_PATH)

    async def stop(self) -> None:
        """Finish the events already stored (for a bounded time; the rest stays in the inbox
        for the next worker), close the client."""
        await self.drain(self.tuning.drain_timeout)
        await self.inbox.stop(CHANNEL.value, self.tuning.drain_timeout)
        self._ready.clear()
        await self.client.close()

    async def drain(self, seconds: float | None = None) -> None:
        """Wait until every stored event has been processed and answered (by any worker)."""
        if self.ready and not await self.inbox.drain(CHANNEL.value, seconds):
            log.warning("Zalo OA: events still waiting in the inbox at shutdown")

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
            return web.json_response({"error": ERR_BODY}, status=400, dumps=_dumps)
        if not isinstance(body, dict):
            return web.json_response({"error": ERR_BODY}, status=400, dumps=_dumps)
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
            return web.json_response({"error": ERR_SIGNATURE}, status=401, dumps=_dumps)
        if self.signature_variant == "either":
            log.info("Zalo OA webhook: signature matched with %s first", variant)
        if not event_is_fresh(body.get("timestamp"), self.max_event_age):
            log.warning("Zalo OA webhook: a signed event outside the time window was refused")
            return web.json_response({"error": ERR_STALE}, status=400, dumps=_dumps)
        if not self.ready:
            return web.json_response({"error": ERR_STARTING}, status=503, dumps=_dumps)
        event = parse_event(body, self.oa_id)
        if event is not None:
            try:
                await self.inbox.put(CHANNEL.value, [Stored(event.event_id, event.user_id, body)])
            except Exception as exc:
                log.error("Zalo OA webhook: event not stored (%s)", type(exc).__name__)
                return web.json_response({"error": ERR_STORE}, status=503, dumps=_dumps)
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
