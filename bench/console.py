"""Staff console pages on the demo city: dashboard p95 and a drill-down list page.

    eval "$(scripts/postgres.sh)"   # exports MOTCUA_TEST_POSTGRES_URL
    .venv/bin/python bench/console.py                              # 200,000 dossiers
    .venv/bin/python bench/console.py --dossiers 20000 --responses 20000 --questions 30000

The city is the one ``bench/stats.py`` generates (200,000 dossiers over 13 months, 200,000
ratings with about 1,000,000 answers, 300,000 questions), written to a fresh PostgreSQL
database that is dropped afterwards (``--url`` uses an existing one instead, e.g. kept by
``bench/stats.py --keep``). One worker serves the console on loopback; an admin session (and a
ward's staff session) ask for each page over real HTTP, one request at a time, ``--requests``
times; the figures are the latency of the whole request: session and role checks, every
statistic, the SVG charts and the HTML.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stats as city_data  # bench/stats.py: the same generated city

from bot.app import App
from bot.config import Settings
from bot.domain.dossiers.workdays import load_calendar
from bot.domain.stats import indexes
from bot.domain.stats.periods import parse_period
from bot.messages import Channel
from bot.server import make_web_app
from handlers.context import Services
from storage import migrate
from storage.models import Agency, Dossier
from storage.repositories import roles, staff_auth
from storage.testing import create_database, drop_database, new_database_name


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(
    http: aiohttp.ClientSession, base: str, path: str, cookie: str, n: int
) -> tuple[float, float, float]:
    """(cold, p50, p95) in ms of ``n`` sequential GETs after the first."""
    times = []
    for _ in range(n + 1):
        started = time.perf_counter()
        async with http.get(base + path, headers={"Cookie": f"motcua_staff={cookie}"}) as r:
            body = await r.read()
            if r.status != 200:
                raise SystemExit(f"{path}: HTTP {r.status}: {body[:300]!r}")
        times.append(1000 * (time.perf_counter() - started))
    return times[0], statistics.median(times[1:]), pct(times[1:], 0.95)


async def run(url: str, requests: int, cache_seconds: float) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        secret_key="bench",  # noqa: S106 - a throwaway database
        db_pool_size=5,
        staff_dashboard_cache_seconds=cache_seconds,
    )
    app = App.build(settings)
    await app.start(migrate_db=False, watch=False)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: city_data.TODAY)
    async with app.sessions() as s, s.begin():
        ward = (
            await s.execute(
                select(Agency.id, func.count())
                .join(Dossier, Dossier.handling_agency_id == Agency.id)
                .where(Agency.level == "xa")
                .group_by(Agency.id)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).first()
        assert ward is not None, "no dossiers"
        ward_row = await s.get(Agency, ward[0])
        proc = await s.scalar(
            select(Dossier.procedure_id)
            .where(Dossier.handling_agency_id == ward[0])
            .group_by(Dossier.procedure_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        cookies = {}
        for user, role, agency in (("9001", "admin", None), ("9002", "staff", ward_row)):
            user_hash = app.dispatcher.user_hash_of(Channel.TELEGRAM, user)
            await roles.grant(s, user_hash=user_hash, channel="telegram", user_id=user,
                              role=role, agency=agency, display_name=f"Bench {role}")  # fmt: skip
            cookies[role], _ = await staff_auth.create_session(s, user_hash)
    # For comparison: the statistics alone (what /thongke computes), city-wide for the year.
    year = parse_period("nam", city_data.TODAY)
    alone = []
    for _ in range(3):
        async with app.sessions() as s:
            started = time.perf_counter()
            await indexes.compute(s, period=year, calendar=old.calendar)
            alone.append(1000 * (time.perf_counter() - started))
    print(f"indexes.compute alone, city, year: best {min(alone):.0f} ms of 3")
    runner = web.AppRunner(make_web_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    pages = [
        ("admin", "dashboard, city, year", "/staff/tongquan?ky=nam"),
        ("admin", "dashboard, city, this month", "/staff/tongquan?ky=thang"),
        ("admin", "dashboard, city, last quarter", "/staff/tongquan?ky=quy-truoc"),
        ("staff", "dashboard, busiest ward, year", "/staff/tongquan?ky=nam"),
        ("staff", "drill-down list, ward × procedure, year",
         f"/staff/tongquan/hoso?ky=nam&thutuc={proc}"),
        ("staff", "drill-down list, ward × procedure, month",
         f"/staff/tongquan/hoso?ky=thang&thutuc={proc}"),
    ]  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            for role, label, path in pages:
                cold, p50, p95 = await measure(http, base, path, cookies[role], requests)
                print(f"{label}: cold {cold:.0f} ms, p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                      f"({requests} requests)")  # fmt: skip
    finally:
        await runner.cleanup()
        await app.close()


async def main_async(args: argparse.Namespace) -> None:
    if args.url:
        await run(args.url, args.requests, args.cache_seconds)
        return
    base = os.environ.get("MOTCUA_TEST_POSTGRES_URL", "")
    if not base:
        sys.exit('Set MOTCUA_TEST_POSTGRES_URL (eval "$(scripts/postgres.sh)"), or give --url.')
    name = new_database_name("motcua_bench")
    url = await create_database(base, name)
    try:
        await migrate.upgrade_async(url)
        calendar = load_calendar()
        wards, departments, procedures = await city_data.reference_data(url, calendar)
        t0 = time.perf_counter()
        rows = city_data.generate(
            calendar, wards, departments, procedures, dossiers=args.dossiers,
            responses=args.responses, questions=args.questions,
        )  # fmt: skip
        await city_data.write_postgres(url, rows)
        sizes = ", ".join(f"{k} {len(v):,}" for k, v in rows.tables.items())
        print(f"city written in {time.perf_counter() - t0:.0f} s: {sizes}")
        del rows
        for seconds in (0.0, args.cache_seconds):
            print(f"-- STAFF_DASHBOARD_CACHE_SECONDS={seconds:g}")
            await run(url, args.requests, seconds)
    finally:
        await drop_database(base, name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dossiers", type=int, default=200_000)
    parser.add_argument("--responses", type=int, default=200_000, help="× 5 answers each")
    parser.add_argument("--questions", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--url", help="an existing database with the city (not dropped)")
    parser.add_argument("--cache-seconds", type=float, default=60.0)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
