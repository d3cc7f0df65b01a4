"""Throughput of ``POST /api/chat`` on the embedded default (SQLite), with concurrent sessions.

Starts ``motcua serve`` on a fresh SQLite database in a temporary folder (loopback only), then
drives N concurrent web-chat sessions, each sending M questions in order, and reports requests
per second, latency percentiles and errors. The same run first drives a floor app
(``bench/floor_app.py``: aiohttp + aiosqlite that parses the JSON, upserts a session, appends a
log row and commits) with the same load, and prints both with the ratio: on a shared or loaded
machine only the ratio means something. Then it does the same with one session alone.

    .venv/bin/python bench/chat_load.py --sessions 50 --messages 20 --single 200
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass
class Result:
    """One closed-loop run against one server."""

    requests: int
    ok: int
    errors: list[str]
    elapsed: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def q(self, p: int) -> float:
        lat = sorted(self.latencies)
        if len(lat) < 2:
            return lat[0] * 1000 if lat else 0.0
        return statistics.quantiles(lat, n=100)[p - 1] * 1000


async def drive(url: str, sessions: int, messages: int, label: str) -> Result:
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
        everything = asyncio.gather(*tasks)
        while not everything.done():  # progress, without rounding the elapsed time to a tick
            await asyncio.wait([everything], timeout=0.5)
            done = len(latencies) + len(errors)
            print(f"\r  {label}: {done}/{total} requests", end="", file=sys.stderr, flush=True)
        elapsed = time.perf_counter() - started
        await everything
    print(file=sys.stderr)
    return Result(len(latencies) + len(errors), len(latencies), errors, elapsed, latencies)


@contextmanager
def server(cmd: list[str], env: dict[str, str], root: Path) -> Iterator[str]:
    """Run a server process on a free port; yields its base URL once ``/healthz`` answers."""
    port = free_port()
    proc = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in cmd],
        cwd=root,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        asyncio.run(wait_ready(url))
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_pair(root: Path, tmp: str, sessions: int, messages: int, tag: str) -> tuple[Result, Result]:
    """The floor, then motcua, each on a fresh database, with the same load."""
    floor_cmd = [
        sys.executable,
        "bench/floor_app.py",
        "--port",
        "{port}",
        "--db",
        f"{tmp}/floor-{tag}.db",
    ]
    with server(floor_cmd, dict(os.environ), root) as url:
        floor = asyncio.run(drive(url, sessions, messages, "floor"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/motcua-{tag}.db",
        "SECRET_KEY": "chat-load-bench-key-0123456789abcdef",
        "WEB_RATE_LIMIT_PER_MINUTE": "100000",
        "WEB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "100000",  # the load comes from one address
        "LOG_LEVEL": "WARNING",
    }
    print("starting motcua (migrations, knowledge base) ...", file=sys.stderr)
    with server([sys.executable, "-m", "bot", "serve"], env, root) as url:
        motcua = asyncio.run(drive(url, sessions, messages, "motcua"))
    return motcua, floor


def report(title: str, motcua: Result, floor: Result) -> None:
    print(f"\n{title}")
    print(f"{'':8} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in (("motcua", motcua), ("floor", floor)):
        print(
            f"{name:8} {r.rate:8.1f} {r.q(50):8.1f} {r.q(90):8.1f} {r.q(99):8.1f} "
            f"{len(r.errors):7d}"
        )
    ratio = floor.rate / motcua.rate if motcua.rate else float("inf")
    print(f"floor / motcua throughput: {ratio:.1f}x (motcua reaches 1/{ratio:.1f} of the floor)")
    for name, r in (("motcua", motcua), ("floor", floor)):
        if r.errors:
            print(f"{name} first error: {r.errors[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument(
        "--single",
        type=int,
        default=200,
        help="messages of the one-session run (0: skip it)",
    )
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        motcua, floor = run_pair(root, tmp, args.sessions, args.messages, "many")
        report(
            f"POST /api/chat, SQLite, one worker, {args.sessions} sessions x "
            f"{args.messages} messages",
            motcua,
            floor,
        )
        if args.single > 0:
            motcua1, floor1 = run_pair(root, tmp, 1, args.single, "one")
            report(f"one session x {args.single} messages", motcua1, floor1)


if __name__ == "__main__":
    main()
