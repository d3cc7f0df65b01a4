"""Zalo Bot API ("Zalo Bot Creator"): the pilot channel for agencies without OA API access.

A thin aiohttp client (no Python package for this API is async, maintained and complete; see
``../shared/zalo.md`` §5). Updates come by long polling (``getUpdates``, one process, for
development) or at ``POST /zalo/bot/webhook``, authenticated by the ``X-Bot-Api-Secret-Token``
header compared in constant time; a webhook update is stored in the inbox (``bot.update_inbox``)
before the 200, and handled from there, in order per chat, by whichever worker claims it.
The sources disagree on whether a webhook update is wrapped in ``{"ok", "result"}`` or sent
bare, so both are accepted. Duplicates (the same ``message_id``) are stored and handled once.

The API has no buttons: choices are written as a numbered list and the dispatcher maps a typed
"1", "2"... back to them. Texts are sent in pieces of at most 2,000 characters.

The bot token is part of every API URL, so no URL is ever logged and error texts are redacted.

The package (each module only translates; the shared parts, numbered menus included, are
``bot.channels.base``): ``api``, ``updates`` (parsing, pure), ``render`` (pure) and
``channel`` (``ZaloBotChannel``).
"""

from bot.channels.base import CHOOSE
from bot.channels.zalo_bot.api import (
    CHANNEL,
    DEFAULT_API_BASE_URL,
    MAX_TEXT_CHARS,
    NO_UPDATE,
    SECRET_HEADER,
    TOKEN_REJECTED,
    TRANSIENT,
    WEBHOOK_PATH,
    BotApiError,
    Mode,
    Tuning,
)
from bot.channels.zalo_bot.channel import (
    ERR_BODY,
    ERR_SECRET,
    ERR_STARTING,
    ERR_STORE,
    ZaloBotChannel,
)
from bot.channels.zalo_bot.render import (
    NUMBER_HINT,
    render,
)
from bot.channels.zalo_bot.updates import (
    parse_update,
    updates_of,
)

__all__ = [
    "CHANNEL",
    "CHOOSE",
    "DEFAULT_API_BASE_URL",
    "ERR_BODY",
    "ERR_SECRET",
    "ERR_STARTING",
    "ERR_STORE",
    "MAX_TEXT_CHARS",
    "NO_UPDATE",
    "NUMBER_HINT",
    "SECRET_HEADER",
    "TOKEN_REJECTED",
    "TRANSIENT",
    "WEBHOOK_PATH",
    "BotApiError",
    "Mode",
    "Tuning",
    "ZaloBotChannel",
    "parse_update",
    "render",
    "updates_of",
]
