"""Replies as Telegram messages (pure): HTML text within 4,096 UTF-16 units, inline
keyboards whose callback data is the choice value, photos and documents with captions."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
)

from bot.channels import textsplit
from bot.channels.base import (
    CHOOSE,
)
from bot.channels.telegram.api import (
    MAX_BUTTON_CHARS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_CHARS,
    MAX_TEXT_CHARS,
)
from bot.channels.textsplit import utf16_length
from bot.messages import (
    Attachment,
    Choice,
    Reply,
)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def text_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return utf16_length(text)


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Pieces of at most ``limit`` units, cut between paragraphs when at all possible."""
    return textsplit.split_text(text, limit)


def escape(text: str) -> str:
    """Text safe for ``parse_mode=HTML``: every user- and knowledge-provided string goes here."""
    return html.escape(text, quote=False)


def button_label(label: str, limit: int = MAX_BUTTON_CHARS) -> str:
    """A button text Telegram shows whole: one line, cut at a word with an ellipsis."""
    return textsplit.one_line(label, limit)


def check_callback_data(value: str) -> str:
    """A choice value as callback data: Telegram takes 1 to 64 bytes and rejects the message
    otherwise, so a longer value is a programming error (long state belongs in the state row)."""
    size = len(value.encode())
    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
        raise ValueError(f"choice value of {size} bytes; callback data must be 1-64 bytes")
    return value


def inline_keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """One button per row (labels are questions), or one row for a few short answers."""
    if not choices:
        return None
    buttons = [
        InlineKeyboardButton(button_label(c.label), callback_data=check_callback_data(c.value))
        for c in choices
    ]
    if len(buttons) <= 3 and all(len(b.text) <= 12 for b in buttons):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[b] for b in buttons])


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Bot API send: its kind, HTML text (or caption) and the keyboard it carries."""

    kind: Literal["text", "photo", "document"]
    html: str
    markup: InlineKeyboardMarkup | None = None
    attachment: Attachment | None = None


def render(reply: Reply) -> list[Outgoing]:
    """The sends for one reply; the keyboard goes on the last one, so it sits under the text."""
    markup = inline_keyboard(reply.choices)
    files: list[tuple[Literal["photo", "document"], Attachment]] = []
    if reply.image is not None:
        files.append(("photo", reply.image))
    if reply.document is not None:
        files.append(("document", reply.document))
    text = reply.text.strip()
    out: list[Outgoing] = []
    caption = ""
    if files and text_length(text) <= MAX_CAPTION_CHARS:
        caption = text
    else:
        pieces = split_text(text) or ([CHOOSE] if markup and not files else [])
        out = [Outgoing("text", escape(p)) for p in pieces]
    for i, (kind, attachment) in enumerate(files):
        out.append(Outgoing(kind, escape(caption) if i == 0 else "", attachment=attachment))
    if markup is not None and out:
        last = out[-1]
        out[-1] = Outgoing(last.kind, last.html, markup, last.attachment)
    return out
