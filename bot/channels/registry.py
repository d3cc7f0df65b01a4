"""The platform channels a process runs, built from the settings: one row per platform.

A channel is built only when its settings are present, and its module is imported only then
(a server without Telegram never loads python-telegram-bot). The web chat and the terminal
are not here: they are part of every server and of ``motcua chat`` respectively.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelAdapter
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.update_inbox import UpdateInbox

Build = Callable[
    [Settings, Dispatcher, async_sessionmaker[AsyncSession], UpdateInbox], ChannelAdapter
]


def _telegram(
    settings: Settings,
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    inbox: UpdateInbox,
) -> ChannelAdapter:
    from bot.channels.telegram import TelegramChannel

    return TelegramChannel.from_settings(settings, dispatcher, sessions, inbox=inbox)


def _zalo_oa(
    settings: Settings,
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    inbox: UpdateInbox,
) -> ChannelAdapter:
    from bot.channels.zalo_oa import ZaloOaChannel

    return ZaloOaChannel.from_settings(settings, dispatcher, sessions, inbox=inbox)


def _zalo_bot(
    settings: Settings,
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    inbox: UpdateInbox,
) -> ChannelAdapter:
    from bot.channels.zalo_bot import ZaloBotChannel

    return ZaloBotChannel.from_settings(settings, dispatcher, sessions, inbox=inbox)


@dataclass(frozen=True, slots=True)
class Platform:
    """A channel: whether the settings turn it on, and how to build it."""

    name: str
    enabled: Callable[[Settings], bool]
    build: Build


PLATFORMS: tuple[Platform, ...] = (
    Platform("telegram", lambda s: s.telegram_bot_token is not None, _telegram),
    Platform("zalo_oa", lambda s: bool(s.zalo_app_id), _zalo_oa),
    Platform("zalo_bot", lambda s: s.zalo_bot_token is not None, _zalo_bot),
)


def build_channels(
    settings: Settings,
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    inbox: UpdateInbox,
) -> list[ChannelAdapter]:
    """The channels the settings turn on, in a fixed order; webhook ones share ``inbox``."""
    return [
        p.build(settings, dispatcher, sessions, inbox) for p in PLATFORMS if p.enabled(settings)
    ]
