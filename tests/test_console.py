"""The terminal chat: numbered lists, letter keys for yes/no, wrapping, and no log lines.

The transcript tests run ``python -m bot chat`` in a pseudo-terminal of a given width, as a
citizen would, and read what the terminal shows.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from bot.app import App
from bot.channels import console
from bot.messages import Choice, Reply
from tests.conftest import BUNDLED_KB, ROOT


async def test_a_terminal_session(app: App) -> None:
    stdin = io.StringIO("2\nho so tctn gom nhung gi\n/thoat\n")
    stdout = io.StringIO()
    await console.run(app.dispatcher, stdin=stdin, stdout=stdout, width=80)
    out = stdout.getvalue()
    assert "Xin chào" in out
    assert "  2. 📚 Thủ tục theo lĩnh vực" in out
    assert "Mời bạn chọn lĩnh vực:" in out  # "2" picked the second choice
    assert "Mẫu số 10" in out
    assert out.rstrip().endswith("Tạm biệt!")


def test_lists_are_numbered_and_yes_no_gets_letters() -> None:
    text, keys = console.render(
        [
            Reply("Câu hỏi liên quan:", (Choice("x", "v1"), Choice("y", "v2"))),
            Reply(
                "Câu trả lời có hữu ích không?", (Choice("👍 Có", "yes"), Choice("👎 Chưa", "no"))
            ),
        ]
    )
    assert "  1. x" in text
    assert "  2. y" in text
    assert "[c] 👍 Có    [k] 👎 Chưa" in text
    assert "3." not in text
    assert keys.resolve("1") == Choice("x", "v1")  # "1" is the first question, as shown
    assert keys.resolve("c") == Choice("👍 Có", "yes")
    assert keys.resolve("Có") == Choice("👍 Có", "yes")
    assert keys.resolve("khong") == Choice("👎 Chưa", "no")
    # a number shown nowhere is not taken for the 3rd or 4th button of the turn
    assert (
        keys.resolve("3") == "Không có mục số 3. Bạn gõ số từ 1 đến 2 để chọn mục trong "
        "danh sách, hoặc gõ c (có) hoặc k (không) để trả lời."
    )
    assert keys.resolve("092201001234") is None  # an ID number asked for by a lookup is text
    assert keys.resolve("cho em hỏi") is None


def test_only_a_real_yes_no_question_gets_letters() -> None:
    _, keys = console.render([Reply("Chọn:", (Choice("Cư trú", "a"), Choice("Hộ tịch", "b")))])
    assert keys.yes is None
    assert [c.value for c in keys.numbered] == ["a", "b"]
    _, keys = console.render(
        [Reply("Thông tin này có giúp bạn?", (Choice("Có, đỡ phải đi", "y"), Choice("Không", "n")))]
    )
    assert keys.yes == Choice("Có, đỡ phải đi", "y")
    assert keys.resolve("1") == "Không có mục số 1. gõ c (có) hoặc k (không) để trả lời."


def test_words_wrap_at_word_boundaries() -> None:
    text = (
        "Hồ sơ gồm tờ khai đăng ký khai sinh theo mẫu và giấy chứng sinh "
        "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html bản chính."
    )
    lines = console.wrap(text, 30)
    assert all(len(line) <= 30 for line in lines if "https://" not in line)
    assert " ".join(lines).split() == text.split()  # no word cut in two
    assert "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html" in lines  # kept whole


# ---------------------------------------------------------------- through a pseudo-terminal


class Terminal:
    """``motcua chat`` in a pseudo-terminal of ``columns`` columns."""

    def __init__(self, tmp_path: Path, columns: int) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
            "SECRET_KEY": "test-secret-test-secret-test-secret",
            "SECRET_KEY_FILE": str(tmp_path / "secret.key"),
            "KB_DIR": str(BUNDLED_KB),
            "LOG_LEVEL": "INFO",
            "COLUMNS": "",
            "LINES": "",
        }
        env.pop("COLUMNS")
        env.pop("LINES")
        self.log_file = tmp_path / "chat.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--log-file", str(self.log_file)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.screen = ""

    def read_until(self, fragment: str, timeout: float = 60) -> str:
        """Everything shown up to ``fragment`` (after what was read before)."""
        start = len(self.screen)
        deadline = time.monotonic() + timeout
        while fragment not in self.screen[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{fragment!r} not shown; screen:\n{self.screen[start:]}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"chat ended before {fragment!r}:\n{self.screen[start:]}")
                self.screen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        end = self.screen.index(fragment, start) + len(fragment)
        return self.screen[start:end]

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> object:
    term = Terminal(tmp_path, columns=50)
    yield term
    term.close()


def test_a_transcript_in_a_50_column_terminal(terminal: Terminal, tmp_path: Path) -> None:
    greeting = terminal.read_until(console.PROMPT)
    assert "Xin chào" in greeting
    terminal.type("ho so tctn gom nhung gi")
    answer = terminal.read_until(console.PROMPT)
    assert "Mẫu số 10" in answer
    assert "[c] 👍 Có" in answer and "[k] 👎 Chưa" in answer
    shown = greeting + answer
    # no log line in the conversation (they went to the log file)
    assert not re.search(r"\b(INFO|WARNING|DEBUG)\b", shown)
    assert " INFO " in terminal.log_file.read_text("utf-8")  # there were some, elsewhere
    # every line fits the terminal and no word is cut: each piece is a word of the text
    lines = [line for line in shown.split("\n") if line and not line.startswith(console.PROMPT)]
    assert all(len(line) <= 50 for line in lines if "://" not in line), lines
    # "1" opens the first related question; it is not "yes"
    related = re.search(r"^  1\. (.+)$", answer, re.MULTILINE)
    assert related
    terminal.type("1")
    opened = terminal.read_until(console.PROMPT)
    assert "Cảm ơn" not in opened
    terminal.type("c")
    thanks = terminal.read_until(console.PROMPT)
    assert "Cảm ơn bạn đã phản hồi!" in thanks
    terminal.type("/thoat")
    assert "Tạm biệt!" in terminal.read_until("Tạm biệt!")


def test_the_answer_shows_every_word_whole_in_the_terminal(terminal: Terminal) -> None:
    from knowledge import kbfile

    terminal.read_until(console.PROMPT)
    terminal.type("ho so tctn gom nhung gi")
    shown = terminal.read_until(console.PROMPT)
    entry = next(e for e in kbfile.load_dir(BUNDLED_KB) if "Mẫu số 10" in e.answer)
    expected = entry.answer.split()
    words = shown.split()
    start = words.index(expected[0])
    # the same words in the same order: a word cut at the margin would appear as two
    assert words[start : start + len(expected)] == expected
