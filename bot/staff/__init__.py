"""The staff web console under ``/staff/``: dashboard, knowledge base, inbox, audit, users.

Server-rendered pages (Jinja2 through aiohttp-jinja2), forms that work without JavaScript, no
external resources. Sign-in is by one-time link only (``/dangnhap`` in the chat, or ``motcua
staff link``); see ``bot.staff.auth``. Every change goes through the same repository functions
and audit log as the chat commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.staff import auth, dashboard, kb, people
from bot.staff.app_key import STAFF_APP, STATS_CACHE
from bot.staff.cache import TtlCache
from bot.staff.format import FILTERS

if TYPE_CHECKING:
    from bot.app import App

HERE = Path(__file__).resolve().parent
PREFIX = "/staff"


def setup(web_app: web.Application, app: App) -> None:
    """Mount the console on the aiohttp application of a built ``bot.app.App``."""
    web_app[STAFF_APP] = app
    web_app[STATS_CACHE] = TtlCache(app.settings.staff_dashboard_cache_seconds)
    env = aiohttp_jinja2.setup(
        web_app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        app_key=auth.JINJA_KEY,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)
    r = web_app.router
    r.add_static(f"{PREFIX}/static/", HERE / "static", name="staff_static")
    r.add_get(f"{PREFIX}", auth.home)
    r.add_get(f"{PREFIX}/", auth.home)
    r.add_get(f"{PREFIX}/dangnhap", auth.login_page)
    r.add_post(f"{PREFIX}/dangnhap", auth.login)
    r.add_post(f"{PREFIX}/dangxuat", auth.logout)
    dashboard.register(r, PREFIX)
    kb.register(r, PREFIX)
    people.register(r, PREFIX)
