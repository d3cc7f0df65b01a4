"""Terminal chat: the same conversation as the web, with numbered choices."""

from __future__ import annotations

import asyncio
import getpass
import sys
import tempfile
import uuid
from pathlib import Path
from typing import TextIO

from bot.dispatcher import Dispatcher
from bot.messages import Channel, ChatRef, Incoming, Reply

PROMPT = "Bạn: "
BYE = {"/thoat", "/quit", "/exit", "thoát", "thoat"}


def render(replies: list[Reply]) -> str:
    """Replies as text, choices numbered across the whole turn (the dispatcher maps "1", "2"...)."""
    lines: list[str] = []
    n = 0
    for reply in replies:
        lines.append(reply.text)
        for attachment in (reply.image, reply.document):
            if attachment is not None:
                path = Path(tempfile.gettempdir()) / attachment.name
                path.write_bytes(attachment.content)
                lines.append(f"  [tệp đính kèm đã lưu: {path}]")
        for choice in reply.choices:
            n += 1
            lines.append(f"  {n}. {choice.label}")
        lines.append("")
    return "\n".join(lines)


async def run(
    dispatcher: Dispatcher, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    """Chat until end of input or /thoat."""
    chat = ChatRef(Channel.CONSOLE, getpass.getuser(), getpass.getuser())
    stdout.write("Gõ câu hỏi rồi nhấn Enter; gõ số để chọn; /thoat để kết thúc.\n\n")
    first = "/start"
    while True:
        if first:
            line, first = first, ""
        else:
            stdout.write(PROMPT)
            stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            if line.lower() in BYE:
                break
        replies = await dispatcher.handle(Incoming(chat=chat, event_id=uuid.uuid4().hex, text=line))
        stdout.write(render(replies) + "\n")
        stdout.flush()
    stdout.write("Tạm biệt!\n")
