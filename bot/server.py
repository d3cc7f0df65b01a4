"""The one aiohttp server: web chat, health, metrics (webhooks join here as channels land)."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError

from bot.api import IngestApi
from bot.app import App
from bot.channels.web import WebChannel
from bot.ingest import Ingestor

log = logging.getLogger(__name__)

APP_KEY = web.AppKey("motcua_app", App)


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    ok = await app.healthy()
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if ok else "unreachable",
        "kb_revision": app.knowledge.revision,
        "kb_entries": len(app.knowledge.index),
    }
    return web.json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    return web.Response(
        body=generate_latest(app.metrics.registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


UNAVAILABLE = "Hệ thống đang tạm gián đoạn. Bạn vui lòng thử lại sau ít phút."


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors on API paths are JSON like the rest of the API, never HTML pages.

    A database that went away gives 503 (retry later), not a 500 with a traceback page.
    """
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if request.path.startswith("/api/") and exc.status >= 400:
            return web.json_response({"error": exc.reason}, status=exc.status)
        raise
    except (DBAPIError, OSError) as exc:
        log.warning("database unavailable on %s: %s", request.path, type(exc).__name__)
        return web.json_response({"error": UNAVAILABLE}, status=503, dumps=_dumps)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def make_web_app(app: App) -> web.Application:
    """The aiohttp application for a built (and started) ``App``."""
    web_app = web.Application(middlewares=[json_errors], client_max_size=1024 * 1024)
    web_app[APP_KEY] = app
    WebChannel(
        app.dispatcher,
        app.sessions,
        max_message_chars=app.settings.max_message_chars,
        rate_limit_per_minute=app.settings.web_rate_limit_per_minute,
        session_days=app.settings.web_session_days,
    ).register(web_app)
    if app.telegram is not None and app.telegram.uses_webhook:
        app.telegram.register(web_app)  # POST /telegram/webhook
    IngestApi(app.sessions, Ingestor(app.dispatcher.services.secret)).register(web_app)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def serve(app: App, host: str, port: int) -> None:
    """Run until cancelled (Ctrl+C or SIGTERM)."""
    runner = web.AppRunner(make_web_app(app), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("motcua is serving the web chat at http://%s:%d/", host, port)
    try:
        import asyncio

        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
