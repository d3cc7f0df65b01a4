"""Several workers on one PostgreSQL behind nginx, measured under load and faults.

Starts, all on loopback: a fresh database on the local PostgreSQL (``scripts/postgres.sh``), a
fake Telegram Bot API (tests/fake_telegram.py), two ``motcua serve`` workers in webhook mode,
and nginx from Debian's package with the balancing rules of ``deploy/nginx-motcua.conf``.
Then it measures:

1. load: S concurrent web-chat sessions sending M messages each through nginx to two workers,
   then to one worker: requests per second, p50/p99 latency, errors, and that every message
   that got a reply is in the message log exactly once, in order;
2. a worker killed with SIGKILL during the load: the other carries on;
3. PostgreSQL restarted during the load: requests fail cleanly with 503 during the outage and
   succeed after it without restarting anything;
4. Telegram webhooks at R updates per second through nginx to both workers, with the fake
   Bot API answering 429 and 500 part of the time: every update answered once.

    eval "$(scripts/postgres.sh)"
    .venv/bin/python bench/cluster.py --sessions 500 --messages 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.privacy import keyed_hash
from storage import migrate
from storage.db import create_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake Telegram server lives in tests/

from tests.fake_telegram import FakeTelegram  # noqa: E402

SECRET = "cluster-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway database's key
TOKEN = "123456:CLUSTER-bench-token"  # noqa: S105 - talks only to the local fake
HOOK_SECRET = "cluster-hook-secret"  # noqa: S105
NGINX_PORT = 18080
WORKER_PORTS = (18081, 18082)
QUESTIONS = [
    "hồ sơ trợ cấp thất nghiệp gồm những gì",
    "ho so tctn gom nhung gi",
    "lệ phí đăng ký tạm trú bao nhiêu",
    "làm lại căn cước bị mất ở đâu",
    "đăng ký khai sinh cho con cần giấy tờ gì",
    "lý lịch tư pháp bao lâu thì có",
    "xin giấy phép xây dựng nhà ở cần gì",
    "đăng ký hộ kinh doanh online được không",
]

NGINX_CONF = """
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream motcua_workers {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 6m;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header X-Request-Id $request_id;
        proxy_read_timeout 30s;
        proxy_next_upstream error timeout http_502 http_503 http_504;
        proxy_next_upstream_tries 2;
        location / {{ proxy_pass http://motcua_workers; }}
    }}
}}
"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    answered: dict[str, list[str]] = field(default_factory=dict)  # session -> questions answered
    elapsed: float = 0.0

    def report(self, label: str) -> str:
        lat = sorted(self.latencies)
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0.0] * 99
        errors = sum(n for s, n in self.statuses.items() if s != 200)
        return (
            f"{label}: {len(lat) / self.elapsed:.0f} req/s, p50 {q[49] * 1000:.0f} ms, "
            f"p99 {q[98] * 1000:.0f} ms, {errors} errors {dict(self.statuses)}"
        )


class Cluster:
    def __init__(self, base_url: str, workdir: Path) -> None:
        self.base_url = base_url
        self.workdir = workdir
        self.db_name = f"motcua_cluster_{uuid.uuid4().hex[:8]}"
        self.url = (
            make_url(base_url).set(database=self.db_name).render_as_string(hide_password=False)
        )
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.nginx: subprocess.Popen[bytes] | None = None
        self.fake: FakeTelegram | None = None

    async def admin(self, sql: str) -> None:
        engine = create_engine(self.base_url)
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    def env(self, port: int) -> dict[str, str]:
        assert self.fake is not None
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "SECRET_KEY": SECRET,
            "PORT": str(port),
            "WEB_RATE_LIMIT_PER_MINUTE": "100000",
            "WEB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "100000",  # the load comes from one address
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": "10",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": self.fake.base_url,
            "TELEGRAM_WEBHOOK_URL": "https://motcua.example.vn/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET,
        }

    async def start_worker(self, port: int) -> None:
        log = (self.workdir / f"worker-{port}.log").open("ab")
        self.workers[port] = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=ROOT,
            env=self.env(port),
            stdout=log,
            stderr=log,
        )
        await wait_healthy(f"http://127.0.0.1:{port}")

    def write_nginx(self, ports: tuple[int, ...]) -> Path:
        prefix = self.workdir / "nginx"
        prefix.mkdir(exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;" for p in ports
        )
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, servers=servers, port=NGINX_PORT))
        return conf

    async def start_nginx(self, ports: tuple[int, ...]) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = self.write_nginx(ports)
        if self.nginx is not None:
            subprocess.run([nginx, "-c", str(conf), "-s", "reload"], check=True)
            await asyncio.sleep(1)
            return
        self.nginx = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"])
        await wait_healthy(f"http://127.0.0.1:{NGINX_PORT}")

    async def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(timeout=10)


async def wait_healthy(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy")


async def web_load(sessions: int, messages: int, during: Any = None) -> Load:
    """Each session sends its messages one after another; ``during`` runs alongside."""
    load = Load()
    url = f"http://127.0.0.1:{NGINX_PORT}/api/chat"
    connector = aiohttp.TCPConnector(limit=sessions)
    timeout = aiohttp.ClientTimeout(total=60)

    async def one(http: aiohttp.ClientSession, n: int) -> None:
        token: str | None = None
        rng = random.Random(n)
        for i in range(messages):
            question = f"{rng.choice(QUESTIONS)} (phiên {n}, tin {i})"
            body: dict[str, str] = {"text": question}
            if token:
                body["session"] = token
            started = time.perf_counter()
            try:
                async with http.post(url, json=body) as r:
                    load.statuses[r.status] += 1
                    if r.status != 200:
                        await asyncio.sleep(0.2)
                        continue
                    data = await r.json()
            except (aiohttp.ClientError, TimeoutError):
                load.statuses[599] += 1
                await asyncio.sleep(0.2)
                continue
            load.latencies.append(time.perf_counter() - started)
            if token is None:
                token = data["session"]
                load.answered[token] = []
            load.answered[token].append(question)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.perf_counter()
        tasks = [asyncio.create_task(one(http, n)) for n in range(sessions)]
        side = asyncio.create_task(during()) if during else None
        total = sessions * messages
        while not all(t.done() for t in tasks):
            await asyncio.sleep(1)
            done = sum(load.statuses.values())
            print(f"\r  {done}/{total} requests", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        await asyncio.gather(*tasks)
        if side:
            await side
        load.elapsed = time.perf_counter() - started
    return load


async def check_log(cluster: Cluster, load: Load) -> str:
    """Every answered message is in the message log exactly once, in the order sent."""
    import hashlib

    engine = create_engine(cluster.url)
    missing = duplicated = disordered = 0
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT user_hash, question FROM message_log ORDER BY id")
            )
            logged: dict[str, list[str]] = {}
            for user_hash, question in rows:
                logged.setdefault(user_hash, []).append(question)
    finally:
        await engine.dispose()
    for token, questions in load.answered.items():
        chat_id = hashlib.sha256(token.encode()).hexdigest()[:32]
        user_hash = keyed_hash(SECRET.encode(), "web", chat_id)[:40]
        seen = logged.get(user_hash, [])
        counts = Counter(seen)
        missing += sum(1 for q in questions if counts[q] == 0)
        duplicated += sum(1 for q in questions if counts[q] > 1)
        in_log = [q for q in seen if q in set(questions)]
        disordered += in_log != questions
    return (
        f"log check: {sum(len(q) for q in load.answered.values())} answered messages, "
        f"{missing} missing, {duplicated} duplicated, {disordered} sessions out of order"
    )


async def webhooks(cluster: Cluster, rate: float, count: int) -> str:
    """Telegram updates at ``rate`` per second through nginx; the fake answers 429/500 at times."""
    fake = cluster.fake
    assert fake is not None
    fake.fail("sendMessage", 429, times=20, retry_after=1)
    fake.fail("sendMessage", 500, times=20)
    url = f"http://127.0.0.1:{NGINX_PORT}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET}
    chats = [700000 + i for i in range(200)]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:

        async def post(update: dict[str, Any]) -> None:
            started = time.perf_counter()
            async with http.post(url, json=update, headers=headers) as r:
                statuses[r.status] += 1
            latencies.append(time.perf_counter() - started)

        tasks = []
        started = time.perf_counter()
        for i in range(count):
            chat = chats[i % len(chats)]
            update = fake.message_update(chat, random.choice(QUESTIONS))
            tasks.append(asyncio.create_task(post(update)))
            if i % 2 == 0:  # a Telegram redelivery of the same update
                tasks.append(asyncio.create_task(post(update)))
            await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    # Replies are sent after the webhook answered: give the workers time to drain.
    engine = create_engine(cluster.url)
    try:
        deadline = time.monotonic() + 120
        while True:
            async with engine.connect() as conn:
                logged = await conn.scalar(
                    text("SELECT count(*) FROM message_log WHERE channel = 'telegram'")
                )
            sends = [c for c in fake.calls_of("sendMessage") if c.status == 200]
            if len({c.chat_id for c in sends}) >= len(chats) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        await engine.dispose()
    q = statistics.quantiles(sorted(latencies), n=100)
    return (
        f"webhooks: {count} updates (+{count // 2} redeliveries) at {count / elapsed:.0f}/s, "
        f"ack p50 {q[49] * 1000:.0f} ms p99 {q[98] * 1000:.0f} ms, statuses {dict(statuses)}; "
        f"questions logged {logged} (each update once), messages delivered {len(sends)} to "
        f"{len({c.chat_id for c in sends})} chats despite 20 x 429 and 20 x 500"
    )


async def main_async(args: argparse.Namespace) -> None:
    base = os.environ.get("MOTCUA_TEST_POSTGRES_URL")
    if not base:
        sys.exit('Set MOTCUA_TEST_POSTGRES_URL (eval "$(scripts/postgres.sh)").')
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(base, Path(tmp))
        await cluster.admin(f'CREATE DATABASE "{cluster.db_name}"')
        try:
            await migrate.upgrade_async(cluster.url)
            async with FakeTelegram(TOKEN) as fake:
                cluster.fake = fake
                say("starting two workers and nginx ...")
                for port in WORKER_PORTS:
                    await cluster.start_worker(port)
                await cluster.start_nginx(WORKER_PORTS)
                results = []

                load = await web_load(args.sessions, args.messages)
                results += [load.report("two workers"), await check_log(cluster, load)]
                await cluster.start_nginx(WORKER_PORTS[:1])
                one = await web_load(args.sessions, args.messages)
                results.append(one.report("one worker"))
                await cluster.start_nginx(WORKER_PORTS)

                async def kill_one() -> None:
                    await asyncio.sleep(3)
                    cluster.workers[WORKER_PORTS[1]].send_signal(signal.SIGKILL)

                killed = await web_load(args.sessions // 2, args.messages, kill_one)
                results += [
                    killed.report("worker SIGKILLed during load"),
                    await check_log(cluster, killed),
                ]
                await cluster.start_worker(WORKER_PORTS[1])

                async def restart_db() -> None:
                    await asyncio.sleep(3)
                    ver = sorted(os.listdir("/usr/lib/postgresql"))[-1]
                    subprocess.run(["pg_ctlcluster", ver, "main", "restart"], check=True)

                outage = await web_load(args.sessions // 2, args.messages, restart_db)
                results.append(outage.report("PostgreSQL restarted during load"))
                after = await web_load(20, 5)
                results.append(after.report("after the restart (no worker restarted)"))
                results.append(await webhooks(cluster, args.rate, args.updates))
                await cluster.stop()
            print("\n".join(results))
        finally:
            await cluster.stop()
            await cluster.admin(f'DROP DATABASE IF EXISTS "{cluster.db_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0, help="webhook updates per second")
    parser.add_argument("--updates", type=int, default=2000)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
