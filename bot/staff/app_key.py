"""The key under which the console finds the running ``App`` on the aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.domain.stats.indexes import Statistics
from bot.staff.cache import TtlCache

if TYPE_CHECKING:
    from bot.app import App

STAFF_APP: web.AppKey[App] = web.AppKey("motcua_staff_app")
STATS_CACHE: web.AppKey[TtlCache[Statistics]] = web.AppKey("motcua_staff_stats", TtlCache)
