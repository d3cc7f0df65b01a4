"""Several workers on one PostgreSQL behind nginx, measured under load and faults.

Starts, all on loopback: a fresh database on the local PostgreSQL (``scripts/postgres.sh``), a
fake Telegram Bot API (tests/fake_telegram.py), two ``motcua serve`` workers in webhook mode,
and nginx from Debian's package with the balancing rules of ``deploy/nginx-motcua.conf``.
Then it measures:

1. load: S concurrent web-chat sessions sending M messages each through nginx to each number of
   workers of ``--workers`` (1, 2 and 4 say whether throughput grows with workers; on a machine
   with fewer cores than workers it cannot, and the report gives the core count): requests per
   second, p50/p99 latency, errors, and that every message that got a reply is in the message
   log exactly once, in order;
2. a worker killed with SIGKILL during the load: the other carries on;
3. PostgreSQL restarted during the load: requests fail cleanly with 503 during the outage and
   succeed after it without restarting anything;
4. Telegram webhooks at R updates per second (half of them redelivered) through nginx to 1,
   2 (and 4) workers, with the fake Bot API answering 429 and 500 part of the time: the
   acknowledgement latency (p50, p99), then, once every reply is delivered or a deadline has
   passed, the missing, duplicated and out-of-order replies per chat;
5. Zalo OA webhooks (tests/fake_zalo.py) to two workers, one SIGKILLed under load and not
   restarted: every acknowledged event handled once and in order per user, and answered.

    eval "$(scripts/postgres.sh)"
    .venv/bin/python bench/cluster.py --sessions 500 --messages 20 --workers 1,2,4
    .venv/bin/python bench/cluster.py --part webhooks --rate 100 --updates 1000 --workers 1,2
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bot.domain.privacy import keyed_hash
from storage import migrate
from storage.db import create_engine
from storage.testing import create_database, database_url, drop_database, new_database_name

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake Telegram server lives in tests/

from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.fake_zalo import FakeZaloOA  # noqa: E402

SECRET = "cluster-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway database's key
TOKEN = "123456:CLUSTER-bench-token"  # noqa: S105 - talks only to the local fake
HOOK_SECRET = "cluster-hook-secret"  # noqa: S105
# MOTCUA_BENCH_PORT_BASE moves every port (several people benching on one machine).
PORT_BASE = int(os.environ.get("MOTCUA_BENCH_PORT_BASE", "18080"))
NGINX_PORT = PORT_BASE
WORKER_PORTS = (PORT_BASE + 1, PORT_BASE + 2)
ALL_PORTS = tuple(PORT_BASE + i for i in range(1, 5))  # the webhook runs use up to four
ZALO_APP_ID, ZALO_OA_ID = "2553928453557884079", "3662729599332560487"
ZALO_APP_SECRET, ZALO_OA_KEY = "cluster-zalo-app-secret", "cluster-zalo-oa-secret-key"
LEASE_SECONDS = 5  # WEBHOOK_LEASE_SECONDS: how soon a killed worker's updates are taken over
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

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

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
        self.db_name = new_database_name("motcua_cluster")
        self.url = database_url(base_url, self.db_name)
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.nginx: subprocess.Popen[bytes] | None = None
        self.fake: FakeTelegram | None = None
        self.zalo: FakeZaloOA | None = None
        self.runs: list[str] = []

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
            "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
            **self.zalo_env(),
        }

    def zalo_env(self) -> dict[str, str]:
        if self.zalo is None:
            return {}
        return {
            "ZALO_APP_ID": ZALO_APP_ID,
            "ZALO_OA_ID": ZALO_OA_ID,
            "ZALO_APP_SECRET": ZALO_APP_SECRET,
            "ZALO_OA_SECRET_KEY": ZALO_OA_KEY,
            "ZALO_OA_ACCESS_TOKEN": self.zalo.initial_access_token,
            "ZALO_OA_REFRESH_TOKEN": self.zalo.initial_refresh_token,
            "ZALO_OA_API_BASE_URL": self.zalo.base_url,
            "ZALO_OAUTH_BASE_URL": self.zalo.base_url,
        }

    async def use_workers(self, n: int) -> None:
        """Exactly the first ``n`` of ``ALL_PORTS`` running (others stopped), nginx on them."""
        ports = ALL_PORTS[:n]
        for port, proc in list(self.workers.items()):
            if port not in ports and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        started = False
        for port in ports:
            proc_ = self.workers.get(port)
            if proc_ is None or proc_.poll() is not None:
                await self.start_worker(port)
                started = True
        await self.start_nginx(ports)
        if started:
            await asyncio.sleep(3)  # let the new workers finish starting (index, channels)

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
        pending = set(tasks)
        while pending:
            # Wait for the sessions, not a whole second: the elapsed time ends with the last
            # answer (polled in whole seconds, 1,000 requests in 5.2 s read as 6 s: 167 req/s).
            _, pending = await asyncio.wait(pending, timeout=1)
            done = sum(load.statuses.values())
            print(f"\r  {done}/{total} requests", end="", file=sys.stderr, flush=True)
        load.elapsed = time.perf_counter() - started
        print(file=sys.stderr)
        await asyncio.gather(*tasks)
        if side:
            await side
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


def quantiles_ms(values: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``values`` (seconds) in milliseconds."""
    if len(values) < 2:
        return (values[0] * 1000, values[0] * 1000) if values else (0.0, 0.0)
    q = statistics.quantiles(sorted(values), n=100)
    return q[49] * 1000, q[98] * 1000


@dataclass
class Acks:
    """What the webhook answered: statuses and latency of each POST (retries included)."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0

    def line(self) -> str:
        p50, p99 = quantiles_ms(self.latencies)
        return (
            f"ack p50 {p50:.0f} ms p99 {p99:.0f} ms, statuses {dict(self.statuses)}, "
            f"{self.retries} platform retries"
        )


async def post_until_acknowledged(
    acks: Acks, send: Any, attempts: int = 6, pause: float = 0.5
) -> bool:
    """POST like the platforms do: anything but 200 (a 502 from a dead worker, a timeout) is
    sent again after a pause. Returns whether it was acknowledged."""
    for attempt in range(attempts):
        started = time.perf_counter()
        try:
            status = await send()
        except (aiohttp.ClientError, TimeoutError):
            status = 599
        acks.latencies.append(time.perf_counter() - started)
        acks.statuses[status] += 1
        if status == 200:
            return True
        if attempt + 1 < attempts:
            acks.retries += 1
            await asyncio.sleep(pause)
    return False


def order_report(expected: dict[Any, list[Any]], got: dict[Any, list[Any]]) -> str:
    """Missing, duplicated and out-of-order items per chat: ``got`` lists what each chat
    received (or logged) in the order it happened, ``expected`` what was sent, in order."""
    missing = duplicated = disordered = 0
    for chat, sent in expected.items():
        seen = got.get(chat, [])
        counts = Counter(seen)
        missing += sum(1 for item in sent if counts[item] == 0)
        duplicated += sum(1 for item in sent if counts[item] > 1)
        wanted = set(sent)
        first: list[Any] = []
        for item in seen:
            if item in wanted and item not in first:
                first.append(item)
        disordered += first != [item for item in sent if item in set(first)]
    total = sum(len(v) for v in expected.values())
    return (
        f"{total} expected: {missing} missing, {duplicated} duplicated, "
        f"{disordered} of {len(expected)} chats out of order"
    )


async def logged_questions(cluster: Cluster, channel: str) -> dict[str, list[str]]:
    """The message log of ``channel``: questions per user hash, in the order handled."""
    engine = create_engine(cluster.url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT user_hash, question FROM message_log WHERE channel = :c ORDER BY id"),
                {"c": channel},
            )
            logged: dict[str, list[str]] = {}
            for user_hash, question in rows:
                logged.setdefault(user_hash, []).append(question)
    finally:
        await engine.dispose()
    return logged


async def webhooks(
    cluster: Cluster, label: str, rate: float, count: int, chats: int, deadline: float
) -> str:
    """Telegram updates at ``rate`` per second through nginx, half of them delivered twice
    (a redelivery), the fake answering 429 and 500 at times; each chat's updates are sent one
    after another, as Telegram does. Group chats, so that each reply names the message it
    answers (``reply_parameters``): that is how replies are matched to updates. Waits until
    every update has its reply (or ``deadline`` seconds), then counts missing, duplicated and
    out-of-order replies per chat."""
    fake = cluster.fake
    assert fake is not None
    fake.fail("sendMessage", 429, times=10, retry_after=1)
    fake.fail("sendMessage", 500, times=10)
    url = f"http://127.0.0.1:{NGINX_PORT}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET}
    base = -1_000_000 - 10_000 * len(cluster.runs)
    cluster.runs.append(label)
    groups = [base - i for i in range(chats)]
    sent: dict[int, list[int]] = {g: [] for g in groups}
    acks = Acks()
    unacknowledged = 0
    rng = random.Random(len(cluster.runs))
    logged_before = sum(len(v) for v in (await logged_questions(cluster, "telegram")).values())
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def post(update: dict[str, Any]) -> int:
            async with http.post(url, json=update, headers=headers) as r:
                await r.read()
                return r.status

        async def one(prev: asyncio.Task[None] | None, update: dict[str, Any], twice: bool) -> None:
            nonlocal unacknowledged
            if prev is not None:
                await prev
            chat = update["message"]["chat"]["id"]
            sent[chat].append(update["message"]["message_id"])
            for _ in range(2 if twice else 1):
                if not await post_until_acknowledged(acks, lambda: post(update)):
                    unacknowledged += 1

        last: dict[int, asyncio.Task[None]] = {}
        started = time.perf_counter()
        for i in range(count):
            chat = groups[i % len(groups)]
            question = rng.choice(QUESTIONS)
            update = fake.message_update(chat, f"@{fake.username} {question}", user_id=4200 + i)
            last[chat] = asyncio.create_task(one(last.get(chat), update, twice=i % 2 == 0))
            await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.perf_counter()))
        await asyncio.gather(*last.values())
        elapsed = time.perf_counter() - started

    def replies() -> dict[int, list[int]]:
        got: dict[int, list[int]] = {}
        for call in fake.calls_of("sendMessage"):
            answered = (call.params.get("reply_parameters") or {}).get("message_id")
            if call.status == 200 and call.chat_id in sent and answered is not None:
                got.setdefault(call.chat_id, []).append(answered)
        return got

    wait_started = time.perf_counter()
    stop_at = time.monotonic() + deadline
    while time.monotonic() < stop_at:
        got = replies()
        if sum(len(set(v)) for v in got.values()) >= count:
            break
        await asyncio.sleep(0.5)
    delivered_after = time.perf_counter() - wait_started
    got = replies()
    logged = await logged_questions(cluster, "telegram")
    return (
        f"Telegram webhooks, {label}: {count} updates (+{(count + 1) // 2} redeliveries) to "
        f"{chats} chats at {count / elapsed:.0f}/s; {acks.line()}, {unacknowledged} never "
        f"acknowledged; replies {order_report(sent, got)}; last reply "
        f"{delivered_after:.1f} s after the last update; {count} updates, "
        f"{sum(len(v) for v in logged.values()) - logged_before} questions logged"
    )


async def zalo_kill(
    cluster: Cluster, zalo: FakeZaloOA, rate: float, count: int, users: int, deadline: float
) -> str:
    """Zalo OA events at ``rate`` per second through nginx to two workers, one of them
    SIGKILLed a third of the way in (and not restarted). Every acknowledged event must be
    handled exactly once, in order per user (checked in the message log), and answered."""
    zalo.webhook_url = f"http://127.0.0.1:{NGINX_PORT}/zalo/oa/webhook"
    ids = [f"61424948{230000000 + i}" for i in range(users)]
    acks = Acks()
    unacknowledged = 0

    async def deliver(body: dict[str, Any]) -> bool:
        async def send() -> int:
            return (await zalo.post_event(body)).status

        return await post_until_acknowledged(acks, send)

    for user in ids:  # the users follow the OA first (Zalo only lets an OA answer followers)
        await deliver(zalo.follow_event(user))
    expected: dict[str, list[str]] = {u: [] for u in ids}
    rng = random.Random(7)
    victim = cluster.workers[WORKER_PORTS[1]]

    async def one(prev: asyncio.Task[None] | None, user: str, question: str) -> None:
        nonlocal unacknowledged
        if prev is not None:
            await prev
        expected[user].append(question)
        if not await deliver(zalo.text_event(user, question)):
            unacknowledged += 1

    last: dict[str, asyncio.Task[None]] = {}
    started = time.perf_counter()
    killed_at = count // 3
    for i in range(count):
        if i == killed_at:
            victim.send_signal(signal.SIGKILL)
            say(f"  SIGKILLed worker {WORKER_PORTS[1]} after {i} events")
        user = ids[i % len(ids)]
        question = f"{rng.choice(QUESTIONS)} lượt {i}"
        last[user] = asyncio.create_task(one(last.get(user), user, question))
        await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.perf_counter()))
    await asyncio.gather(*last.values())
    elapsed = time.perf_counter() - started
    hashes = {keyed_hash(SECRET.encode(), "zalo_oa", u)[:40]: u for u in ids}
    stop_at = time.monotonic() + deadline
    wait_started = time.perf_counter()
    while True:
        logged = {hashes[h]: qs for h, qs in (await logged_questions(cluster, "zalo_oa")).items()}
        if sum(len(set(v)) for v in logged.values()) >= count or time.monotonic() > stop_at:
            break
        await asyncio.sleep(0.5)
    handled_after = time.perf_counter() - wait_started
    short = sum(1 for u in ids if len(zalo.messages(u)) < 2 + len(expected[u]))
    return (
        f"Zalo OA webhooks, 2 workers, one SIGKILLed after {killed_at} events: {count} events "
        f"to {users} users at {count / elapsed:.0f}/s; {acks.line()}, {unacknowledged} never "
        f"acknowledged; handled (message log) {order_report(expected, logged)}; all handled "
        f"{handled_after:.1f} s after the last event; {short} users got fewer messages than "
        f"their follow (2) plus one per event"
    )


async def web_part(cluster: Cluster, args: argparse.Namespace) -> list[str]:
    """Parts 1-3: web-chat load on 1, 2 (, 4) workers, a SIGKILL, a PostgreSQL restart."""
    results = []
    rates: dict[int, float] = {}
    for n in args.workers:
        say(f"web chat with {n} worker(s) and nginx ...")
        await cluster.use_workers(n)
        load = await web_load(args.sessions, args.messages)
        label = f"{n} worker{'s' if n > 1 else ''}"
        results += [load.report(label), await check_log(cluster, load)]
        say("  " + results[-2])
        rates[n] = load.rate
    if len(rates) > 1:
        first = min(rates)
        results.append(
            f"web chat throughput against {first} worker: "
            + ", ".join(f"{n} workers {rates[n] / rates[first]:.2f}x" for n in sorted(rates))
            + f" (this machine has {os.cpu_count()} cores, shared with PostgreSQL, nginx"
            " and the load generator)"
        )
    if args.no_faults:
        return results
    await cluster.use_workers(2)

    async def kill_one() -> None:
        await asyncio.sleep(3)
        cluster.workers[WORKER_PORTS[1]].send_signal(signal.SIGKILL)

    killed = await web_load(args.sessions // 2, args.messages, kill_one)
    results += [killed.report("worker SIGKILLed during load"), await check_log(cluster, killed)]
    await cluster.start_worker(WORKER_PORTS[1])

    async def restart_db() -> None:
        await asyncio.sleep(3)
        ver = sorted(os.listdir("/usr/lib/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", ver, "main", "restart"], check=True)

    outage = await web_load(args.sessions // 2, args.messages, restart_db)
    results.append(outage.report("PostgreSQL restarted during load"))
    after = await web_load(20, 5)
    results.append(after.report("after the restart (no worker restarted)"))
    return results


async def webhook_part(cluster: Cluster, args: argparse.Namespace) -> list[str]:
    """Part 4: Telegram webhooks with 1, 2 (, 4) workers; Zalo OA with a worker SIGKILLed."""
    results = []
    for n in args.workers:
        say(f"Telegram webhooks with {n} worker(s) ...")
        await cluster.use_workers(n)
        label = f"{n} worker{'s' if n > 1 else ''}"
        result = await webhooks(cluster, label, args.rate, args.updates, args.chats, args.deadline)
        say("  " + result)
        results.append(result)
    if cluster.zalo is not None:
        say("Zalo OA webhooks with a worker SIGKILLed ...")
        await cluster.use_workers(2)
        result = await zalo_kill(
            cluster, cluster.zalo, args.rate, args.updates, args.chats, args.deadline
        )
        say("  " + result)
        results.append(result)
    return results


async def main_async(args: argparse.Namespace) -> None:
    base = os.environ.get("MOTCUA_TEST_POSTGRES_URL")
    if not base:
        sys.exit('Set MOTCUA_TEST_POSTGRES_URL (eval "$(scripts/postgres.sh)").')
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(base, Path(tmp))
        await create_database(base, cluster.db_name)
        try:
            await migrate.upgrade_async(cluster.url)
            async with (
                FakeTelegram(TOKEN) as fake,
                FakeZaloOA(
                    app_id=ZALO_APP_ID,
                    oa_id=ZALO_OA_ID,
                    app_secret=ZALO_APP_SECRET,
                    oa_secret_key=ZALO_OA_KEY,
                ) as zalo,
            ):
                cluster.fake, cluster.zalo = fake, zalo
                results = []
                if args.part in ("all", "web"):
                    results += await web_part(cluster, args)
                if args.part in ("all", "webhooks"):
                    results += await webhook_part(cluster, args)
                await cluster.stop()
            print("\n".join(results))
        finally:
            await cluster.stop()
            await drop_database(base, cluster.db_name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--part", choices=("all", "web", "webhooks"), default="all")
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0, help="webhook updates per second")
    parser.add_argument("--updates", type=int, default=1000, help="webhook updates per run")
    parser.add_argument("--chats", type=int, default=100, help="chats the updates go to")
    parser.add_argument(
        "--workers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 2],
        help="worker counts of the web-chat load and Telegram webhook runs, e.g. 1,2,4",
    )
    parser.add_argument(
        "--no-faults",
        action="store_true",
        help="web part: skip the SIGKILL and the PostgreSQL restart (a shared PostgreSQL)",
    )
    parser.add_argument(
        "--deadline", type=float, default=120.0, help="seconds to wait for every reply"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
