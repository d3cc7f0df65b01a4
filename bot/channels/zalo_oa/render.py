"""Replies as OA customer-service messages (pure): text within 2,000 UTF-16 units, up to
five ``oa.query.show`` buttons whose payload carries the choice, longer lists numbered, and
the picture or file of a reply as a message of its own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.channels import textsplit
from bot.channels.base import CHOOSE, menu_text, numbered_turn
from bot.channels.textsplit import utf16_length
from bot.channels.zalo_oa.api import (
    IMAGE_TYPES,
    MAX_BUTTON_TITLE_CHARS,
    MAX_BUTTONS,
    MAX_FILE_BYTES,
    MAX_IMAGE_BYTES,
    MAX_PAYLOAD_CHARS,
    MAX_TEXT_CHARS,
    UPLOAD_FILE_PATH,
    UPLOAD_IMAGE_PATH,
)
from bot.messages import Attachment, Choice, Reply

NUMBER_HINT = "Bạn bấm nút bên dưới hoặc gõ số thứ tự để chọn."


NO_ATTACHMENT = (
    "Zalo không nhận tệp «{name}». Bạn vui lòng lấy tệp này qua Telegram hoặc trang web."
)


def text_length(text: str) -> int:
    """Length as Zalo counts it (UTF-16 code units)."""
    return utf16_length(text)


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Pieces of at most ``limit`` units, cut between paragraphs when at all possible."""
    return textsplit.split_text(text, limit)


def button_title(label: str, limit: int = MAX_BUTTON_TITLE_CHARS) -> str:
    """A button title Zalo accepts: one line, at most 100 characters, cut at a word."""
    return textsplit.one_line(label, limit)


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
