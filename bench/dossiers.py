"""Dossier lookup latency with 1,000,000 dossiers on PostgreSQL, and ingest throughput.

Needs a PostgreSQL server on which it may create (and then drop) a database:

    eval "$(scripts/postgres.sh)"   # exports MOTCUA_TEST_POSTGRES_URL
    .venv/bin/python bench/dossiers.py --dossiers 1000000 --lookups 300 --ingest 20000

Lookups go through the real conversation (dispatcher, verification, lockout counters, audit,
the status text) exactly as a citizen's chat does; ingest goes through ``POST
/api/v1/dossiers`` over loopback HTTP in batches of 500.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot import demo
from bot.app import App
from bot.config import Settings
from bot.domain.privacy import owner_id_hash
from bot.messages import Channel, ChatRef, Incoming
from bot.server import make_web_app
from storage import migrate
from storage.repositories import apikeys
from storage.repositories import dossiers as repo
from storage.testing import create_database, drop_database, new_database_name

SECRET = "bench-secret-0123456789abcdef0123456789"  # noqa: S105 - a throwaway database's key
SAMPLE_ID = "079200000001"


def progress(label: str, done: int, total: int) -> None:
    print(f"\r  {label}: {done:,}/{total:,}", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)


async def fill(app: App, count: int) -> list[str]:
    """Reference data from the demo, then ``count`` dossiers generated inside PostgreSQL."""
    services = app.dispatcher.services
    async with app.sessions() as s, s.begin():
        await demo.generate(
            s, secret=services.secret, calendar=services.calendar, today=services.today(), count=0
        )
    chunk = 100_000
    async with app.engine.connect() as conn:
        wards = list(
            await conn.execute(text("SELECT id, code FROM agencies WHERE level = 'xa' ORDER BY id"))
        )
        n_wards = len(wards)
        await conn.execute(text("CREATE TEMP TABLE w (i int, id int, code text)"))
        for i, (wid, code) in enumerate(wards):
            await conn.execute(
                text("INSERT INTO w VALUES (:i, :id, :code)"), {"i": i, "id": wid, "code": code}
            )
        for start in range(0, count, chunk):
            stop = min(count, start + chunk)
            # g -> (ward, day, counter) is one-to-one, so every code is unique and well formed.
            await conn.execute(
                text(
                    """
                INSERT INTO dossiers (code, procedure_id, receiving_agency_id, handling_agency_id,
                    channel, owner_name_masked, owner_id_hmac, owner_phone_hmac, received_date,
                    due_date, status, supplement_count, supplement_reason, refusal_reason,
                    illustrative, updated_at)
                SELECT w.code || '-'
                       || to_char(DATE '2025-11-01' + ((g / :n) % 365), 'YYMMDD')
                       || '-' || lpad((g / (:n * 365) + 1)::text, 4, '0'),
                       (SELECT min(id) FROM procedures), w.id, w.id, 1 + g % 2, 'Nguyễn V. A.',
                       md5(g::text), NULL,
                       DATE '2025-11-01' + ((g / :n) % 365),
                       DATE '2025-11-01' + ((g / :n) % 365) + 7,
                       CASE WHEN g % 10 < 7 THEN 10 ELSE 4 END, 0, '', '', true, now()
                FROM generate_series(:start, :stop - 1) AS g JOIN w ON w.i = g % :n
                """
                ),
                {"start": start, "stop": stop, "n": n_wards},
            )
            await conn.commit()
            progress("dossiers", stop, count)
        await conn.execute(text("ANALYZE"))
        await conn.commit()
        sample = [
            r[0]
            for r in await conn.execute(
                text("SELECT code FROM dossiers ORDER BY md5(code) LIMIT 400")
            )
        ]
        await conn.execute(
            text("UPDATE dossiers SET owner_id_hmac = :h WHERE code = ANY(:codes)"),
            {"h": owner_id_hash(services.secret, SAMPLE_ID), "codes": sample},
        )
        await conn.commit()
    return sample


async def lookups(app: App, codes: list[str], n: int) -> list[float]:
    times = []
    for i, code in enumerate(codes[:n]):
        chat = ChatRef(Channel.WEB, f"bench-{i}", f"bench-{i}")
        await app.dispatcher.handle(Incoming(chat, f"{i}-code", text=code))
        started = time.perf_counter()
        replies = await app.dispatcher.handle(Incoming(chat, f"{i}-id", text=SAMPLE_ID))
        times.append(time.perf_counter() - started)
        assert "Trạng thái:" in replies[0].text, replies[0].text
        if (i + 1) % 50 == 0:
            progress("lookups", i + 1, n)
    return times


async def ingest(app: App, total: int) -> float:
    async with app.sessions() as s, s.begin():
        city = await repo.agency_by_code(s, demo.CITY[0])
        assert city is not None
        _, key = await apikeys.create(s, name="bench", agency=city)
    batch = 500
    headers = {"Authorization": f"Bearer {key}"}
    async with TestClient(TestServer(make_web_app(app))) as client:
        started = time.perf_counter()
        for start in range(0, total, batch):
            items = [
                {
                    "code": f"000.00.10.H13-2612{1 + (start + k) // 9999:02d}"
                    f"-{(start + k) % 9999 + 1:04d}",
                    "procedure_code": demo.PROCEDURES[0].code,
                    "receiving_agency": "000.00.10.H13",
                    "owner_name": "Lê Thị Hồng",
                    "owner_id_number": "079111222333",
                    "received_date": "2026-12-01",
                    "due_date": "2026-12-02",
                    "status": 2,
                }
                for k in range(min(batch, total - start))
            ]
            resp = await client.post("/api/v1/dossiers", json={"dossiers": items}, headers=headers)
            assert resp.status == 200, await resp.text()
            progress("ingested", start + len(items), total)
        return total / (time.perf_counter() - started)


async def main_async(args: argparse.Namespace) -> None:
    base = os.environ.get("MOTCUA_TEST_POSTGRES_URL")
    if not base:
        sys.exit('Set MOTCUA_TEST_POSTGRES_URL (eval "$(scripts/postgres.sh)").')
    name = new_database_name("motcua_bench")
    url = await create_database(base, name)
    try:
        await migrate.upgrade_async(url)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=url,
                secret_key=SECRET,
                kb_dir=Path(tmp),
            )
            app = App.build(settings)
            await app.start(migrate_db=False, watch=False)
            try:
                t0 = time.perf_counter()
                codes = await fill(app, args.dossiers)
                print(f"filled {args.dossiers:,} dossiers in {time.perf_counter() - t0:.0f} s")
                times = await lookups(app, codes, args.lookups)
                q = statistics.quantiles(times, n=100)
                p50, p99 = q[49] * 1000, q[98] * 1000
                print(
                    f"lookup (verify and show), {len(times)} dossiers: "
                    f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                )
                rate = await ingest(app, args.ingest)
                print(f"ingest: {rate:,.0f} dossiers/s ({args.ingest:,} in batches of 500)")
            finally:
                await app.close()
    finally:
        await drop_database(base, name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--ingest", type=int, default=20_000)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
