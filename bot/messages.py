"""Channel-neutral message types: what adapters give the dispatcher and what handlers return."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """Where a conversation happens."""

    WEB = "web"
    TELEGRAM = "telegram"
    ZALO_OA = "zalo_oa"
    ZALO_BOT = "zalo_bot"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """One conversation: ids are strings on every channel."""

    channel: Channel
    chat_id: str
    user_id: str
    is_group: bool = False
    """A chat shared by several people (a Telegram group), as the adapter knows it."""

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file a user sent (read by the adapter; size already checked)."""

    name: str
    content: bytes
    mime_type: str = ""


class EventKind(StrEnum):
    """What an ``Incoming`` is: a message, or a change in whether the chat can be written to.

    Lifecycle events are handled by the dispatcher in its one transaction
    (``bot/lifecycle.py``), never by an adapter's own.
    """

    MESSAGE = "message"  # text typed, a choice tapped, a file
    FOLLOW = "follow"  # followed the OA: reachable again, and greeted like /start
    UNFOLLOW = "unfollow"  # unfollowed the OA: unreachable, subscriptions cancelled
    BLOCKED = "blocked"  # blocked the bot or removed it from a group: unreachable
    REACHABLE = "reachable"  # unblocked the bot, opened the chat: reachable again, no reply


@dataclass(frozen=True, slots=True)
class Incoming:
    """One event from a user: text typed, or a choice tapped, or a file.

    ``event_id`` is the channel's own id of the delivery (Telegram update id, Zalo message id,
    a web request id) and is what duplicate deliveries share.
    """

    chat: ChatRef
    event_id: str
    text: str = ""
    choice: str | None = None
    file: IncomingFile | None = None
    display_name: str = ""
    unsupported: str = ""
    kind: EventKind = EventKind.MESSAGE
    refusal: str = ""
    """A reply the adapter decided without reading the content (a file over the platform's
    size limit, never downloaded): the event is claimed like any other and answered with it."""


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: what the user sees and the short value it sends back (at most 64 bytes)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file or picture to send with a reply.

    ``alt`` describes a picture for those who cannot see it (the web chat's alternative text).
    """

    name: str
    content: bytes
    mime_type: str
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back."""

    text: str
    choices: tuple[Choice, ...] = ()
    image: Attachment | None = None
    document: Attachment | None = None


@dataclass(frozen=True, slots=True)
class ChatState:
    """What the assistant remembers about a conversation between two messages.

    Stored as JSON in the chat's state row. ``offered`` holds the values of the choices shown
    last, so that channels without buttons can answer "1", "2"... and so that a tapped value
    can be checked against what was really offered.
    """

    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    offered: tuple[str, ...] = ()
    last_entry: str | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    """What outlives flows: the dialogue memory (``handlers/memory.py``) under its own key."""

    def to_json(self) -> str:
        raw = asdict(self)
        raw["offered"] = list(self.offered)
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> ChatState:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            return cls(
                flow=raw.get("flow"),
                step=raw.get("step"),
                data=dict(raw.get("data") or {}),
                offered=tuple(raw.get("offered") or ()),
                last_entry=raw.get("last_entry"),
                memory=dict(raw.get("memory") or {}),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()

    def evolve(self, **changes: Any) -> ChatState:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """What a handler reports about a question for the message log and metrics."""

    decision: str
    entry_id: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A handler's result: replies to send and the state to keep."""

    replies: tuple[Reply, ...]
    next_state: ChatState
    log: LogRecord | None = None
