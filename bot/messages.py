"""Channel-neutral message types: what adapters give the dispatcher and what handlers return."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.flowstate import FlowState, Memory, flow_from_raw


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

    Stored as JSON in the chat's state row. ``flow`` is the typed state of the flow under way
    (``bot.flowstate.FlowState``), ``memory`` what outlives flows. ``offered`` holds the values
    of the choices shown last, so that channels without buttons can answer "1", "2"... and so
    that a tapped value can be checked against what was really offered.
    """

    flow: FlowState | None = None
    offered: tuple[str, ...] = ()
    last_entry: str | None = None
    memory: Memory = field(default_factory=Memory)

    @property
    def flow_name(self) -> str | None:
        """The tag of the flow under way (the routing key of its flow row)."""
        return None if self.flow is None else self.flow.tag

    @property
    def step(self) -> str | None:
        return None if self.flow is None else getattr(self.flow, "step", None)

    def to_json(self) -> str:
        raw: dict[str, Any] = {
            "flow": None if self.flow is None else self.flow.to_raw(),
            "offered": list(self.offered),
            "last_entry": self.last_entry,
            "memory": self.memory.to_raw(),
        }
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> ChatState:
        """The stored state; a row of an earlier version (an untyped flow, ``data``) loads as
        no flow, with its verified dossiers and dialogue memory kept."""
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            offered = raw.get("offered") or ()
            last = raw.get("last_entry")
            return cls(
                flow=flow_from_raw(raw.get("flow")),
                offered=tuple(str(v) for v in offered) if isinstance(offered, list) else (),
                last_entry=last if isinstance(last, str) else None,
                memory=Memory.from_raw(raw.get("memory"), raw.get("data")),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()

    def evolve(self, **changes: Any) -> ChatState:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A handler's result: replies to send, the state to keep, and what to log.

    ``decision`` is what was decided about a question (answer, suggest, fallback...), for the
    metrics. ``reroute``: the flow steps aside and the message is then answered as free text
    in ``next_state`` (the router does it, after these replies).
    """

    replies: tuple[Reply, ...]
    next_state: ChatState
    decision: str | None = None
    reroute: bool = False
