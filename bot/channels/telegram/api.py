"""Telegram Bot API facts motcua relies on: paths, limits, the command menu, timings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


WEBHOOK_PATH = "/telegram/webhook"


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")


MAX_TEXT_CHARS = 4096


MAX_CAPTION_CHARS = 1024


MAX_CALLBACK_DATA_BYTES = 64


MAX_BUTTON_CHARS = 64


MAX_FILE_BYTES = 5 * 1024 * 1024


TYPING_REPEAT_SECONDS = 4.5  # Telegram shows "typing…" for about 5 s


# What the command menu shows, in Vietnamese (setMyCommands, for every user).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Bắt đầu trò chuyện"),
    ("menu", "Danh mục chức năng"),
    ("help", "Hướng dẫn sử dụng"),
)


@dataclass(frozen=True, slots=True)
class Tuning:
    """Timings and limits; the defaults follow Telegram's documented flood limits."""

    poll_timeout: int = 30
    typing_after: float = 0.8
    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    group_per_minute: float = 20.0
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_flood_waits: int = 3
    ready_timeout: float = 10.0
    drain_timeout: float = 10.0
