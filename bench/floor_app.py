"""The floor for ``bench/chat_load.py``: the least a chat endpoint must do per message.

aiohttp + aiosqlite on one SQLite file (WAL, ``synchronous=NORMAL``, like motcua): parse the
JSON body, upsert the session, append a log row, commit, answer. Nothing else: no retrieval, no
state, no rate limits. What motcua spends beyond this is the cost of what it does on top.

    .venv/bin/python bench/floor_app.py --port 8099 --db /tmp/floor.db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets

import aiosqlite
from aiohttp import web

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL
);
"""


async def make_app(path: str) -> web.Application:
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.executescript(SCHEMA)
    lock = asyncio.Lock()  # one connection: one transaction at a time

    async def chat(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        token = body.get("session") or secrets.token_urlsafe(32)
        text = str(body.get("text", ""))
        now = asyncio.get_running_loop().time()
        async with lock:
            await db.execute("BEGIN IMMEDIATE")
            await db.execute(
                "INSERT INTO sessions (token, last_seen) VALUES (?, ?) "
                "ON CONFLICT(token) DO UPDATE SET last_seen = excluded.last_seen",
                (token, now),
            )
            await db.execute(
                "INSERT INTO log (token, text, at) VALUES (?, ?, ?)", (token, text, now)
            )
            await db.execute("COMMIT")
        return web.json_response({"session": token, "replies": [{"text": "ok", "choices": []}]})

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def close(_: web.Application) -> None:
        await db.close()

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/healthz", healthz)
    app.on_cleanup.append(close)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    web.run_app(make_app(args.db), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
