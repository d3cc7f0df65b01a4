"""placeholder"""

from __future__ import annotations

from aiohttp import web


def register(router: web.UrlDispatcher, prefix: str) -> None:
    return None
