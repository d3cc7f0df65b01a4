"""Zalo Bot API facts: paths, error codes, timings, and the API error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.messages import Channel

CHANNEL = Channel.ZALO_BOT


WEBHOOK_PATH = "/zalo/bot/webhook"


SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


DEFAULT_API_BASE_URL = "https://bot-api.zaloplatforms.com"


NO_UPDATE = 408  # getUpdates timed out without an update


TRANSIENT = -1  # our own code for network failures and unreadable answers


TOKEN_REJECTED = frozenset({401, 404})


MAX_TEXT_CHARS = 2000


Mode = Literal["polling", "webhook"]


@dataclass(frozen=True, slots=True)
class Tuning:
    """Timings and limits (the Bot API publishes no rate limits: stay modest)."""

    poll_timeout: int = 30
    http_timeout: float = 15.0
    requests_per_second: float = 20.0
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    ready_timeout: float = 10.0
    drain_timeout: float = 10.0


class BotApiError(Exception):
    """``{"ok": false, "error_code", "description"}``, or TRANSIENT for our own failures."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"error {code}: {description}")
        self.code = code
        self.description = description

    @property
    def retryable(self) -> bool:
        return self.code in (TRANSIENT, NO_UPDATE, 429) or self.code >= 500
