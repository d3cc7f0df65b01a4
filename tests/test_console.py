"""The terminal chat: numbered choices, typed numbers, and a clean exit."""

from __future__ import annotations

import io

from bot.app import App
from bot.channels import console


async def test_a_terminal_session(app: App) -> None:
    stdin = io.StringIO("2\nho so tctn gom nhung gi\n/thoat\n")
    stdout = io.StringIO()
    await console.run(app.dispatcher, stdin=stdin, stdout=stdout)
    out = stdout.getvalue()
    assert "Xin chào" in out
    assert "  2. 📚 Thủ tục theo lĩnh vực" in out
    assert "Mời bạn chọn lĩnh vực:" in out  # "2" picked the second choice
    assert "Mẫu số 10" in out
    assert out.rstrip().endswith("Tạm biệt!")


def test_render_numbers_choices_across_replies() -> None:
    from bot.messages import Choice, Reply

    text = console.render(
        [Reply("A", (Choice("x", "1"),)), Reply("B", (Choice("y", "2"), Choice("z", "3")))]
    )
    assert "  1. x" in text
    assert "  2. y" in text
    assert "  3. z" in text
