"""Talking to the Bot API: outgoing limits (this process and every worker), flood waits,
error descriptions and token redaction in the libraries' logs."""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta

from aiolimiter import AsyncLimiter
from telegram.error import (
    RetryAfter,
)

from bot.channels.telegram.api import Tuning
from bot.ratelimit import SharedSendLimits


class _Redactor(logging.Filter):
    """Replaces the bot token (and the webhook secret) in log records, tracebacks included."""

    def __init__(self, *secret_values: str) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secret_values if s)

    def redact(self, text: str) -> str:
        for value in self._secrets:
            text = text.replace(value, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            if self.redact(trace) != trace:
                clean = f"{clean}\n{self.redact(trace)}"
                record.exc_info = None
                record.exc_text = None
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def _library_loggers() -> list[logging.Logger]:
    """Loggers whose records may hold a Bot API URL: python-telegram-bot's, httpx's and ours."""
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "telegram"]
    return [logging.getLogger(n) for n in (*sorted(names), "telegram", "httpx", __name__)]


def describe(exc: BaseException) -> str:
    """An exception for a log line: the class and the message (records are redacted anyway)."""
    return f"{type(exc).__name__}: {exc}"


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ChatUnreachable(Exception):
    """Telegram refused a send with 403: blocked by the user, or removed from the group."""


class OutgoingLimiter:
    """Telegram's flood limits, an equivalent of PTB's ``AIORateLimiter`` plus a per-chat limit.

    ``AIORateLimiter`` throttles the whole bot and groups but not a private chat; Telegram asks
    for about one message per second in any chat, so every chat gets a small leaky bucket (a
    short burst, then one per second). A 429 pauses all sends for its ``retry_after``.
    """

    def __init__(self, tuning: Tuning, shared: SharedSendLimits | None = None) -> None:
        self._tuning = tuning
        self._shared = shared
        self._overall = AsyncLimiter(tuning.overall_per_second, 1)
        self._chats: dict[int, AsyncLimiter] = {}
        self._groups: dict[int, AsyncLimiter] = {}
        self._open = asyncio.Event()
        self._open.set()
        self._resume_at = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` (or longer, if a pause is already running)."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)
        self._open.clear()
        loop.call_at(self._resume_at, self._reopen)

    def _reopen(self) -> None:
        if asyncio.get_running_loop().time() >= self._resume_at:
            self._open.set()

    def _limiter(
        self, table: dict[int, AsyncLimiter], chat_id: int, rate: float, period: float
    ) -> AsyncLimiter:
        if len(table) > 1024:
            for key, limiter in list(table.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del table[key]
        if chat_id not in table:
            table[chat_id] = AsyncLimiter(rate, period)
        return table[chat_id]

    async def acquire(self, chat_id: int | None, *, message: bool) -> None:
        """Wait for a flood pause to end, then for capacity (messages only use chat buckets)."""
        await self._open.wait()
        if chat_id is None:
            return
        if message:
            t = self._tuning
            burst = max(1, t.per_chat_burst)
            await self._limiter(
                self._chats, chat_id, burst, burst / t.per_chat_per_second
            ).acquire()
            if chat_id < 0:
                await self._limiter(self._groups, chat_id, t.group_per_minute, 60).acquire()
        await self._overall.acquire()
        if self._shared is not None:  # the same limits counted across every worker
            await self._shared.acquire(str(chat_id), message=message)
        await self._open.wait()  # a 429 may have come in while this one waited for capacity
