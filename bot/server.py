"""The one aiohttp server: web chat, health, metrics (webhooks join here as channels land)."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError

from bot.api import IngestApi
from bot.app import App
from bot.channels.web import WebChannel
from bot.channels.web_form import WebForm
from bot.channels.web_history import WebHistory
from bot.domain.ingest import Ingestor
from bot.json_text import dumps
from bot.logging_setup import REQUEST_ID
from handlers.notifications import DOSSIER_NOTIFICATIONS

log = logging.getLogger(__name__)

APP_KEY = web.AppKey("motcua_app", App)


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    if app.stopping:
        return web.json_response({"status": "stopping"}, status=503)
    ok = await app.healthy()
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if ok else "unreachable",  # or read-only
        "kb_revision": app.knowledge.revision,
        "kb_entries": len(app.knowledge.index),
    }
    return web.json_response(body, status=200 if ok else 503)


async def readyz(request: web.Request) -> web.Response:
    """Readiness, for the load balancer: 503 while stopping or while the database cannot be
    written; 200 otherwise. Liveness (the process answers) is ``GET /livez``."""
    app = request.app[APP_KEY]
    if app.stopping:
        return web.json_response({"status": "stopping"}, status=503)
    ok = await app.healthy()
    return web.json_response(
        {"status": "ready" if ok else "unavailable"}, status=200 if ok else 503
    )


async def livez(request: web.Request) -> web.Response:
    """Liveness: the process and its event loop answer (no dependency checked; a failing
    database must not get a worker restarted)."""
    return web.json_response({"status": "alive"})


async def metrics(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    return web.Response(
        body=generate_latest(app.metrics.registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


UNAVAILABLE = "Hệ thống đang tạm gián đoạn. Bạn vui lòng thử lại sau ít phút."
SHUTDOWN_SECONDS = 20.0
INTERNAL_ERROR = "Đã có lỗi không mong muốn. Bạn vui lòng thử lại sau."


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tag the request (and every log line it causes) with an id: nginx's, or a new one."""
    rid = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
    token = REQUEST_ID.set(rid)
    try:
        response = await handler(request)
        response.headers["X-Request-Id"] = rid
        return response
    finally:
        REQUEST_ID.reset(token)


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
        return web.json_response({"error": UNAVAILABLE}, status=503, dumps=dumps)
    except Exception:
        if not request.path.startswith("/api/"):
            raise
        # The request id ties the citizen's or the sender's report to the logged traceback.
        rid = REQUEST_ID.get() or uuid.uuid4().hex
        log.exception("unexpected error on %s", request.path)
        return web.json_response(
            {"error": INTERNAL_ERROR, "request_id": rid}, status=500, dumps=dumps
        )


def make_web_app(app: App) -> web.Application:
    """The aiohttp application for a built (and started) ``App``."""
    web_app = web.Application(middlewares=[request_ids, json_errors], client_max_size=1024 * 1024)
    web_app[APP_KEY] = app
    history = WebHistory(app.sessions, session_days=app.settings.web_session_days)
    WebChannel(
        app.dispatcher,
        app.sessions,
        max_message_chars=app.settings.max_message_chars,
        rate_limit_per_minute=app.settings.web_rate_limit_per_minute,
        session_days=app.settings.web_session_days,
        secret=app.dispatcher.services.secret,
        rate_limit_per_address_per_minute=app.settings.web_rate_limit_per_address_per_minute,
        trusted_proxies=app.settings.trusted_proxies,
        history=history,
    ).register(web_app)
    history.register(web_app)  # GET /api/chat/history
    WebForm(
        app.dispatcher,
        app.sessions,
        history,
        max_message_chars=app.settings.max_message_chars,
        rate_limit_per_minute=app.settings.web_rate_limit_per_minute,
        session_days=app.settings.web_session_days,
        rate_limit_per_address_per_minute=app.settings.web_rate_limit_per_address_per_minute,
        trusted_proxies=app.settings.trusted_proxies,
    ).register(web_app)  # GET and POST /chat/form, the chat without JavaScript
    for channel in app.channels:  # POST /telegram/webhook, /zalo/oa/webhook, /zalo/bot/webhook
        channel.register(web_app)  # (a channel that polls adds nothing)
    IngestApi(
        app.sessions, Ingestor(app.dispatcher.services.secret, DOSSIER_NOTIFICATIONS)
    ).register(web_app)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/metrics", metrics)
    from bot.staff import setup as setup_staff_console

    setup_staff_console(web_app, app)  # /staff/: the staff and admin web console
    return web_app


async def serve(app: App, host: str, port: int) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully.

    On a signal the worker reports not-ready (so the load balancer stops sending), stops
    accepting connections, lets in-flight requests finish (up to ``SHUTDOWN_SECONDS``), and
    returns; the caller then closes the channels and the database.
    """
    runner = web.AppRunner(
        make_web_app(app),
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_SECONDS,
        access_log=None,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("motcua is serving the web chat at http://%s:%d/", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("stopping: finishing requests in flight, then exiting")
        app.stopping = True
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
