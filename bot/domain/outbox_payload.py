"""Replies as the JSON payload of an outbox row, and back.

Whoever queues a message (handlers, ingest, reflections, the review sweep) writes the payload;
the outbox worker reads it back into replies for the channel that sends them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.messages import Choice, Reply


def replies_to_payload(replies: Sequence[Reply]) -> dict[str, Any]:
    return {
        "replies": [
            {"text": r.text, "choices": [{"label": c.label, "value": c.value} for c in r.choices]}
            for r in replies
        ]
    }


def payload_to_replies(payload: Mapping[str, Any]) -> list[Reply]:
    return [
        Reply(
            str(r.get("text", "")),
            tuple(Choice(str(c["label"]), str(c["value"])) for c in r.get("choices", ())),
        )
        for r in payload.get("replies", ())
    ]
