"""Throughput of ``POST /api/chat`` on the embedded default (SQLite), with concurrent sessions.

Starts ``motcua serve`` on a fresh SQLite database in a temporary folder (loopback only), then
drives N concurrent web-chat sessions, each sending M questions in order, and reports requests
per second, latency percentiles and errors. The same run first drives a floor app
(``bench/floor_app.py``: aiohttp + aiosqlite that parses the JSON, upserts a session, appends a
log row and commits) with the same load, and prints both with the ratio: on a shared or loaded
machine only the ratio means something. Both servers run side by side and each round drives
the floor, then motcua; the median over the rounds is reported, with each server's CPU time per
request (from /proc), which does not depend on what else the machine runs. Then it does the
same with one session alone.

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
    cpu: float = 0.0  # the server process's CPU seconds (user + system) during the run

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server CPU per answered request: what a message costs, whatever else the machine
        is doing (req/s on a shared machine also measures the neighbours)."""
        return self.cpu / self.ok * 1000 if self.ok else 0.0

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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(cmd: list[str], env: dict[str, str], root: Path) -> Iterator[tuple[str, int]]:
    """Run a server process on a free port; yields its base URL and pid once it is ready."""
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
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measured(url: str, pid: int, sessions: int, messages: int, label: str) -> Result:
    before = cpu_seconds(pid)
    result = asyncio.run(drive(url, sessions, messages, label))
    result.cpu = cpu_seconds(pid) - before
    return result


def run_pairs(
    root: Path, tmp: str, sessions: int, messages: int, tag: str, rounds: int
) -> list[tuple[Result, Result]]:
    """Both servers up side by side (fresh databases); each round drives the floor, then
    motcua, with the same load, so that both see the machine in the same state."""
    floor_cmd = [
        sys.executable,
        "bench/floor_app.py",
        "--port",
        "{port}",
        "--db",
        f"{tmp}/floor-{tag}.db",
    ]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/motcua-{tag}.db",
        "SECRET_KEY": "chat-load-bench-key-0123456789abcdef",
        "WEB_RATE_LIMIT_PER_MINUTE": "100000",
        "WEB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "100000",  # the load comes from one address
        "LOG_LEVEL": "WARNING",
    }
    print("starting the floor and motcua (migrations, knowledge base) ...", file=sys.stderr)
    pairs = []
    with (
        server(floor_cmd, dict(os.environ), root) as (floor_url, floor_pid),
        server([sys.executable, "-m", "bot", "serve"], env, root) as (url, pid),
    ):
        for _ in range(rounds):
            floor = measured(floor_url, floor_pid, sessions, messages, "floor")
            motcua = measured(url, pid, sessions, messages, "motcua")
            pairs.append((motcua, floor))
    return pairs


def report(title: str, pairs: list[tuple[Result, Result]]) -> None:
    print(f"\n{title}")
    print(
        f"{'':14} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'CPU ms/req':>10} {'floor/motcua':>12}"
    )
    for n, (motcua, floor) in enumerate(pairs, 1):
        ratio = floor.rate / motcua.rate if motcua.rate else float("inf")
        for name, r in (("motcua", motcua), ("floor", floor)):
            print(
                f"{name + f' #{n}':14} {r.rate:8.1f} {r.q(50):8.1f} {r.q(90):8.1f} "
                f"{r.q(99):8.1f} {len(r.errors):7d} {r.cpu_ms:10.2f}"
                + (f" {ratio:11.1f}x" if name == "motcua" else "")
            )
    ratios = sorted(f.rate / m.rate if m.rate else float("inf") for m, f in pairs)
    median = ratios[len(ratios) // 2]
    cpu = sorted(m.cpu_ms / f.cpu_ms if f.cpu_ms else float("inf") for m, f in pairs)
    print(
        f"median over {len(pairs)} rounds: motcua reaches 1/{median:.1f} of the floor's req/s;"
        f" it spends {cpu[len(cpu) // 2]:.1f}x the floor's CPU per request"
    )
    for name, r in (("motcua", pairs[-1][0]), ("floor", pairs[-1][1])):
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
    parser.add_argument("--rounds", type=int, default=3, help="floor-then-motcua rounds")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        pairs = run_pairs(root, tmp, args.sessions, args.messages, "many", args.rounds)
        report(
            f"POST /api/chat, SQLite, one worker, {args.sessions} sessions x "
            f"{args.messages} messages",
            pairs,
        )
        if args.single > 0:
            pairs = run_pairs(root, tmp, 1, args.single, "one", args.rounds)
            report(f"one session x {args.single} messages", pairs)


if __name__ == "__main__":
    main()
