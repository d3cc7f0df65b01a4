"""Replies as Zalo Bot texts (pure): no buttons, so choices are numbered lists (the shared
renderer of ``bot.channels.base``), in pieces of at most 2,000 characters."""

from __future__ import annotations

from collections.abc import Iterable

from bot.channels.base import (
    CHOOSE,
    menu_text,
    numbered_turn,
)
from bot.channels.textsplit import split_text
from bot.channels.zalo_bot.api import MAX_TEXT_CHARS
from bot.messages import Reply

NUMBER_HINT = "Bạn gõ số thứ tự để chọn (ví dụ: 1)."


def render(replies: Iterable[Reply]) -> list[str]:
    """The texts for one turn: each reply's choices numbered (continuing across the turn, as
    the dispatcher counts them), a hint after the last list, everything within 2,000 chars."""
    turn = numbered_turn(replies)
    last_with_choices = max((i for i, (r, _) in enumerate(turn) if r.choices), default=-1)
    out: list[str] = []
    for i, (reply, items) in enumerate(turn):
        hint = NUMBER_HINT if i == last_with_choices else ""
        text = menu_text(reply.text, items, hint=hint, title=CHOOSE)
        out.extend(split_text(text, MAX_TEXT_CHARS))
    return out
