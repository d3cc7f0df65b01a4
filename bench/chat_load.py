"""Throughput of ``POST /api/chat`` on the embedded default (SQLite), with concurrent sessions.

Starts ``motcua serve`` on a fresh SQLite database in a temporary folder (loopback only), then
drives N concurrent web-chat sessions, each sending M questions in order, and reports requests
per second, latency percentiles and errors.

    .venv/bin/python bench/chat_load.py --sessions 50 --messages 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

QUESTIONS = [
    "hồ sơ trợ cấp thất nghiệp gồm những gì",
    "ho so tctn gom nhung gi",
    "lệ phí đăng ký tạm trú bao nhiêu",
    "làm lại căn cước bị mất ở đâu",
    "đăng ký khai sinh cho con cần giấy tờ gì",
    "lý lịch tư pháp bao lâu thì có",
    "xin giấy phép xây dựng nhà ở cần gì",
    "đăng ký hộ kinh doanh online được không",
    "bảo hiểm y tế hộ gia đình đóng bao nhiêu",
    "/menu",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


async def session_run(
    http: aiohttp.ClientSession, url: str, messages: int, latencies: list[float], errors: list[str]
) -> None:
    session: str | None = None
    rng = random.Random()
    for _ in range(messages):
        body: dict[str, str] = {"text": rng.choice(QUESTIONS)}
        if session:
            body["session"] = session
        started = time.perf_counter()
        try:
            async with http.post(url + "/api/chat", json=body) as r:
                data = await r.json()
                if r.status != 200:
                    errors.append(f"{r.status} {data.get('error')}")
                    continue
                session = data["session"]
        except aiohttp.ClientError as exc:
            errors.append(type(exc).__name__)
            continue
        latencies.append(time.perf_counter() - started)


async def drive(url: str, sessions: int, messages: int) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    connector = aiohttp.TCPConnector(limit=sessions)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        tasks = [
            asyncio.create_task(session_run(http, url, messages, latencies, errors))
            for _ in range(sessions)
        ]
        total = sessions * messages
        while not all(t.done() for t in tasks):
            await asyncio.sleep(0.5)
            done = len(latencies) + len(errors)
            print(f"\r  {done}/{total} requests", end="", file=sys.stderr, flush=True)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [0.0] * 99
    print(f"sessions {sessions}, messages each {messages}, requests {len(lat) + len(errors)}")
    print(f"throughput {len(lat) / elapsed:.1f} req/s over {elapsed:.1f} s")
    print(
        f"latency p50 {q[49] * 1000:.1f} ms, p90 {q[89] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms"
    )
    print(f"errors {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
            "SECRET_KEY": "chat-load-bench-key-0123456789abcdef",
            "PORT": str(port),
            "WEB_RATE_LIMIT_PER_MINUTE": "100000",
            "WEB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "100000",  # the load comes from one address
            "LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=root, env=env, stdout=subprocess.DEVNULL
        )
        try:
            url = f"http://127.0.0.1:{port}"
            print("starting the server (migrations, knowledge base) ...", file=sys.stderr)
            asyncio.run(wait_ready(url))
            asyncio.run(drive(url, args.sessions, args.messages))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
