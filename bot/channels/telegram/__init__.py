"""Telegram: python-telegram-bot 22 as a typed Bot API client and update parser.

Flows and state stay in our dispatcher and database (no ``Application``, no
``ConversationHandler``, no library persistence: they keep state per process).

Updates come in by long polling (``getUpdates`` with offsets, the default) or by webhook at
``POST /telegram/webhook`` when ``TELEGRAM_WEBHOOK_URL`` is set. Polling confirms a batch only
after every update in it was handled up to the dispatcher's commit. The webhook answers 200 once
the update is stored in the inbox (``bot.update_inbox``), which handles it from there, in order
per chat, on whichever worker claims it; a crash before the dispatcher's commit means the
update is handled again, a crash after it means the dispatcher drops the repeat. Replies go out
within Telegram's flood limits: a stored update counts as done only once its replies are sent
(so the chat's next update, on any worker, cannot overtake them); a polled update's replies go
out in background tasks, in order per chat.

The bot token is part of every Bot API URL, so it is redacted from the log records of the
libraries that could print such a URL, and never appears in a route of ours.

The package (each module only translates; the shared parts are ``bot.channels.base``):
``api`` (limits, the command menu, ``Tuning``), ``render`` (replies as messages, pure),
``client`` (outgoing limits, flood waits, redaction) and ``channel`` (``TelegramChannel``:
polling or webhook, replies, outbox delivery).
"""

from bot.channels.base import CHOOSE
from bot.channels.telegram.api import (
    ALLOWED_UPDATES,
    COMMANDS,
    DEFAULT_API_BASE_URL,
    MAX_BUTTON_CHARS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_CHARS,
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    SECRET_HEADER,
    TYPING_REPEAT_SECONDS,
    WEBHOOK_PATH,
    Tuning,
)
from bot.channels.telegram.channel import (
    DEFAULT_FILE_NAME,
    ERR_BODY,
    ERR_SECRET,
    ERR_STARTING,
    ERR_STORE,
    FILE_TOO_LARGE,
    UNSUPPORTED_KINDS,
    TelegramChannel,
)
from bot.channels.telegram.client import (
    ChatUnreachable,
    OutgoingLimiter,
    describe,
    retry_after_seconds,
)
from bot.channels.telegram.render import (
    NO_PREVIEW,
    Outgoing,
    button_label,
    check_callback_data,
    escape,
    inline_keyboard,
    render,
    split_text,
    text_length,
)

__all__ = [
    "ALLOWED_UPDATES",
    "CHOOSE",
    "COMMANDS",
    "DEFAULT_API_BASE_URL",
    "DEFAULT_FILE_NAME",
    "ERR_BODY",
    "ERR_SECRET",
    "ERR_STARTING",
    "ERR_STORE",
    "FILE_TOO_LARGE",
    "MAX_BUTTON_CHARS",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_CHARS",
    "MAX_FILE_BYTES",
    "MAX_TEXT_CHARS",
    "NO_PREVIEW",
    "SECRET_HEADER",
    "TYPING_REPEAT_SECONDS",
    "UNSUPPORTED_KINDS",
    "WEBHOOK_PATH",
    "ChatUnreachable",
    "Outgoing",
    "OutgoingLimiter",
    "TelegramChannel",
    "Tuning",
    "button_label",
    "check_callback_data",
    "describe",
    "escape",
    "inline_keyboard",
    "render",
    "retry_after_seconds",
    "split_text",
    "text_length",
]
