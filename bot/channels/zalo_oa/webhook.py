"""Webhook events (pure): the ``X-ZEvent-Signature`` check, the freshness window, and an
event reduced to what motcua acts on."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.channels.zalo_oa.api import SignatureVariant
from bot.channels.zalo_oa.render import choice_of
from bot.messages import EventKind
from storage.models import utcnow

log = logging.getLogger(__name__)

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
