"""The key under which the console finds the running ``App`` on the aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App

STAFF_APP: web.AppKey[App] = web.AppKey("motcua_staff_app")
