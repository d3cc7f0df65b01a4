"""Terminal chat: the same conversation as the web, typed in a terminal.

How choices are shown and picked (so that no key means two things):
- a list of choices (the menu, fields, procedures, related questions...) is numbered 1, 2, 3...;
  typing the number picks it;
- a yes/no question ("Câu trả lời có hữu ích không?") is not numbered: its two answers have the
  letter keys ``c`` (có, yes) and ``k`` (không/chưa, no), and "có", "không", "chưa" typed in
  full work too. So "1" never means "yes": after an answer, "1" opens the first related
  question, as shown on screen.
- a number that matches no numbered choice gets a short hint instead of being taken for
  something else; a long number (an ID or phone number asked for by a lookup) is text.

The adapter resolves what was typed to the choice's value itself, so the dispatcher's generic
"1", "2"... mapping (which counts every button of the turn) never applies here.

Output is wrapped at word boundaries to the terminal's width (long web addresses are kept whole,
so that the terminal can still open them). Log lines never reach the conversation: ``motcua
chat`` sends them to a file (see ``log_to_file``).
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import shutil
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.channels.base import numbered_turn
from bot.dispatcher import Dispatcher
from bot.messages import Channel, ChatRef, Choice, Incoming, Reply
from knowledge.normalize import fold

PROMPT = "Bạn: "
BYE = {"/thoat", "/quit", "/exit", "thoát", "thoat"}
INTRO = (
    "Gõ câu hỏi rồi nhấn Enter. Gõ số để chọn một mục trong danh sách; "
    "với câu hỏi có/không, gõ c (có) hoặc k (không). Gõ /thoat để kết thúc."
)
NO_SUCH_NUMBER = "Không có mục số {n}."
PICK_NUMBER = "Bạn gõ số từ 1 đến {last} để chọn mục trong danh sách"
PICK_YES_NO = "gõ c (có) hoặc k (không) để trả lời"
YES_KEY, NO_KEY = "c", "k"
YES_WORDS = frozenset({"c", "co", "vang", "da", "yes", "y"})
NO_WORDS = frozenset({"k", "ko", "khong", "chua", "no", "n"})
MIN_WIDTH, MAX_WIDTH = 30, 100
SMALL_NUMBER_DIGITS = 3  # "1".."999": a menu pick; longer numbers are text (ID numbers...)


def _label_word(label: str) -> str:
    """The first word of a label without emoji or marks: "👍 Có" -> "co"."""
    words = fold(label).lower().replace(",", " ").split()
    return next((w for w in words if w.isalnum()), "")


def yes_no(reply: Reply) -> tuple[Choice, Choice] | None:
    """The (yes, no) choices of a yes/no question, or None for any other reply."""
    if len(reply.choices) != 2:
        return None
    yes, no = reply.choices
    if _label_word(yes.label) == "co" and _label_word(no.label) in ("khong", "chua"):
        return yes, no
    return None


@dataclass
class Keys:
    """What the citizen can type to pick a choice of the last turn."""

    numbered: list[Choice] = field(default_factory=list)
    yes: Choice | None = None
    no: Choice | None = None
    offered: int = 0  # every choice of the turn, numbered or not

    def resolve(self, line: str) -> Choice | str | None:
        """The choice picked, a hint (str) when a short number matches none, or None (text)."""
        text = line.strip().rstrip(".)")
        word = fold(text).lower()
        if self.yes is not None and self.no is not None:
            if word in YES_WORDS:
                return self.yes
            if word in NO_WORDS:
                return self.no
        if text.isdigit() and len(text) <= SMALL_NUMBER_DIGITS:
            n = int(text)
            if 1 <= n <= len(self.numbered):
                return self.numbered[n - 1]
            if self.offered:
                return self.hint(n)
        return None

    def hint(self, n: int) -> str:
        parts = []
        if self.numbered:
            parts.append(PICK_NUMBER.format(last=len(self.numbered)))
        if self.yes is not None:
            parts.append(PICK_YES_NO)
        return NO_SUCH_NUMBER.format(n=n) + " " + (", hoặc ".join(parts)) + "."


def terminal_width() -> int:
    """Columns to wrap at: the terminal's width, within sensible bounds."""
    columns = shutil.get_terminal_size((80, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def wrap(text: str, width: int, indent: str = "", hanging: str = "") -> list[str]:
    """``text`` wrapped at word boundaries; empty lines and line breaks are kept."""
    out: list[str] = []
    for n, line in enumerate(text.split("\n")):
        first = indent if n == 0 else hanging or indent
        if not line.strip():
            out.append("")
            continue
        # A list item ("- ...", "• ...") continues under its own text.
        bullet = ""
        stripped = line.lstrip()
        if stripped[:2] in ("- ", "• ", "+ "):
            bullet = " " * (len(line) - len(stripped) + 2)
        out.extend(
            textwrap.wrap(
                line,
                width=width,
                initial_indent=first,
                subsequent_indent=(hanging or indent) + bullet,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [first]
        )
    return out


def render(replies: list[Reply], width: int = 80) -> tuple[str, Keys]:
    """Replies as wrapped text, and the keys that pick their choices."""
    keys = Keys(offered=sum(len(r.choices) for r in replies))
    letter_reply = next((r for r in reversed(replies) if yes_no(r)), None)
    lines: list[str] = []
    # Only listed choices take numbers: the yes/no pair has letters, and this adapter resolves
    # what is typed itself (``Keys``), so the dispatcher's count of the turn does not apply.
    turn = numbered_turn(replies, listed=lambda r: r is not letter_reply, count_unlisted=False)
    for reply, items in turn:
        lines.extend(wrap(reply.text, width))
        for attachment in (reply.image, reply.document):
            if attachment is not None:
                path = Path(tempfile.gettempdir()) / attachment.name
                path.write_bytes(attachment.content)
                lines.extend(wrap(f"[tệp đính kèm đã lưu: {path}]", width, "  ", "  "))
        pair = yes_no(reply) if reply is letter_reply else None
        if pair is not None:
            keys.yes, keys.no = pair
            lines.extend(
                wrap(
                    f"[{YES_KEY}] {pair[0].label}    [{NO_KEY}] {pair[1].label}",
                    width,
                    "  ",
                    "  ",
                )
            )
        else:
            for item in items:
                keys.numbered.append(item.choice)
                number = f"  {item.number}. "
                lines.extend(wrap(item.choice.label, width, number, " " * len(number)))
        lines.append("")
    return "\n".join(lines), keys


def log_to_file(path: str) -> Callable[[], None]:
    """Send every log record to ``path`` instead of the terminal; returns an undo function.

    ``-`` keeps logging on stderr. If the file cannot be opened, only warnings and errors stay
    on stderr, so that the conversation is not interleaved with information lines.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    if path == "-":
        return lambda: None
    formatter = saved_handlers[0].formatter if saved_handlers else None
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        if formatter is not None:
            handler.setFormatter(formatter)
        for old in saved_handlers:
            for f in old.filters:
                handler.addFilter(f)
        root.handlers[:] = [handler]
    except OSError:
        for old in saved_handlers:
            old.setLevel(max(old.level, logging.WARNING))

    def undo() -> None:
        for h in root.handlers:
            if h not in saved_handlers:
                h.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    return undo


async def run(
    dispatcher: Dispatcher,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    width: int | None = None,
) -> None:
    """Chat until end of input or /thoat."""
    chat = ChatRef(Channel.CONSOLE, getpass.getuser(), getpass.getuser())

    def columns() -> int:
        return width or terminal_width()

    stdout.write("\n".join(wrap(INTRO, columns())) + "\n\n")
    keys = Keys()
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
        picked = keys.resolve(line)
        if isinstance(picked, str):
            stdout.write("\n".join(wrap(picked, columns())) + "\n\n")
            stdout.flush()
            continue
        incoming = Incoming(
            chat=chat,
            event_id=uuid.uuid4().hex,
            text="" if picked else line,
            choice=picked.value if picked else None,
        )
        replies = await dispatcher.handle(incoming)
        text, keys = render(replies, columns())
        stdout.write(text + "\n")
        stdout.flush()
    stdout.write("Tạm biệt!\n")
