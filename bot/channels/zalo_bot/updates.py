"""Updates (pure): wrapped or bare envelopes, reduced to the dispatcher's ``Incoming``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.channels.zalo_bot.api import CHANNEL
from bot.messages import ChatRef, Incoming

_EVENT = re.compile(r"message\.([a-z_]+)\.received")


def updates_of(data: object) -> list[dict[str, Any]]:
    """The updates in a webhook body or a getUpdates result: wrapped ``{"ok", "result"}`` or
    bare ``{"event_name", "message"}``, one update or a list of them."""
    if isinstance(data, dict) and "result" in data:
        if data.get("ok") is False:
            return []
        data = data["result"]
    items = data if isinstance(data, list) else [data]
    return [u for u in items if isinstance(u, dict) and "event_name" in u]


def parse_update(update: Mapping[str, Any]) -> Incoming | None:
    """An update as the dispatcher's ``Incoming``; None for what the bot does not answer
    (bots, group chats, which are beta on Zalo, and events without a message)."""
    name = str(update.get("event_name") or "")
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    sender: dict[str, Any] = message.get("from") or {}
    chat: dict[str, Any] = message.get("chat") or {}
    if not isinstance(sender, dict) or not isinstance(chat, dict):
        return None
    if sender.get("is_bot") is True:
        return None
    if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
        return None
    chat_id = str(chat.get("id") or sender.get("id") or "")
    user_id = str(sender.get("id") or chat_id)
    if not chat_id:
        return None
    event_id = str(message.get("message_id") or f"{name}:{chat_id}:{message.get('date')}")
    ref = ChatRef(CHANNEL, chat_id, user_id)
    display_name = str(sender.get("display_name") or "")
    if name == "message.text.received":
        text = str(message.get("text") or "")
        return Incoming(ref, event_id, text=text, display_name=display_name)
    kind = _EVENT.fullmatch(name)
    if kind is None:
        return None
    return Incoming(ref, event_id, unsupported=kind.group(1), display_name=display_name)
