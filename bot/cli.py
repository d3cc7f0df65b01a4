"""``motcua``: serve, chat, ask, kb, db."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.config import Settings


def _settings() -> Settings:
    return Settings()


def _progress(done: int, total: int, label: str) -> None:
    if sys.stderr.isatty():
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# ---------------------------------------------------------------- serve, chat


async def _serve(args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.server import serve

    settings = _settings()
    app = App.build(settings)
    try:
        await app.start()
        await serve(app, args.host or settings.host, args.port or settings.port)
    finally:
        await app.close()
    return 0


async def _chat(args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.channels import console

    restore_logging = console.log_to_file(args.log_file)  # keep log lines out of the chat
    app = App.build(_settings())
    try:
        await app.start(watch=False)
        await console.run(app.dispatcher)
    finally:
        await app.close()
        restore_logging()
    return 0


# ---------------------------------------------------------------- ask


async def _ask(args: argparse.Namespace) -> int:
    from handlers import faq
    from knowledge import intents, kbfile, selfcal

    if args.kb:
        try:
            index = selfcal.build(kbfile.load(args.kb))
        except kbfile.KbFileError as exc:
            print(f"Cannot use {args.kb}:\n{exc}", file=sys.stderr)
            return 2
    else:
        from bot.app import App

        app = App.build(_settings())
        try:
            await app.start(watch=False)
            index = app.knowledge.index
        finally:
            await app.close()
    questions = [args.question] if args.question else (line.rstrip("\n") for line in sys.stdin)
    for q in questions:
        result = index.search(q, k=args.k)
        # Small talk and dossier questions are not knowledge-base questions: the assistant
        # does not answer them from the base (decision "fallback"; "intent" says what they are).
        intent = intents.applies(
            intents.detect(q),
            result.decision.value == "answer",
            result.decision.value == "suggest" and result.named,
        ) or faq.small_talk_left(result, q)
        decision = "fallback" if intent is not None else result.decision.value
        if args.json:
            line: dict[str, object] = {
                "query": q,
                "decision": decision,
                "matches": [{"id": m.entry.id, "score": m.score} for m in result.matches],
            }
            if intent is not None:
                line["intent"] = intent.name
            print(
                json.dumps(
                    line,
                    ensure_ascii=False,
                ),
                flush=True,
            )
        else:
            print(f"? {q}\n  -> {decision}" + (f" ({intent.name})" if intent else ""))
            for m in result.matches:
                print(f"     {m.score:6.3f}  {m.entry.id}  {m.entry.question}")
            if result.best and decision == "answer":
                print("\n" + result.best.entry.answer)
    return 0


# ---------------------------------------------------------------- kb


def _print_problems(path: str, exc: Exception) -> None:
    from knowledge.kbfile import KbFileError

    problems = exc.problems if isinstance(exc, KbFileError) else ()
    print(f"{path}: {len(problems)} problem(s); nothing was imported.", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)


def _check_refs(args: argparse.Namespace, entries: Sequence[Any]) -> int:
    """``kb validate``: hold the file's legal references against a register directory."""
    from bot import kb_cli

    return kb_cli.validate_refs(args.file, entries, args.register or _settings().kb_register_dir)


async def _kb(args: argparse.Namespace) -> int:
    from knowledge import kbfile

    if args.kb_command == "validate":
        try:
            entries = kbfile.load(args.file)
        except kbfile.KbFileError as exc:
            _print_problems(args.file, exc)
            return 1
        return _check_refs(args, entries)
    if args.kb_command in ("stale", "register", "reviewed"):
        from bot import kb_cli

        return int(await kb_cli.run(args, _settings()))

    from bot.app import App
    from storage.repositories import kb as kb_repo

    settings = _settings()
    app = App.build(settings)
    try:
        if settings.is_sqlite:
            from storage import migrate

            await migrate.upgrade_async(settings.database_url)
        if args.kb_command == "export":
            async with app.sessions() as session:
                entries = await kb_repo.all_entries(session)
            try:
                data = kbfile.dump(entries, kbfile.detect_format(args.file))
            except kbfile.KbFileError as exc:
                _print_problems(args.file, exc)
                return 1
            await asyncio.to_thread(Path(args.file).write_bytes, data)
            print(f"Exported {len(entries)} entries to {args.file}.")
            return 0
        try:
            entries = kbfile.load(args.file)
        except kbfile.KbFileError as exc:
            _print_problems(args.file, exc)
            return 1
        from bot import kb_cli

        async with app.sessions() as session, session.begin():
            if await kb_cli.refs_refused(session, args.file, entries, settings):
                return 1
            plan = await kb_repo.apply_import(
                session, entries, replace=args.replace, dry_run=args.dry_run
            )
            if not args.dry_run:
                await kb_cli.sweep_after_import(session)
        verb = "Would add" if args.dry_run else "Added"
        print(
            f"{verb} {len(plan.added)}, change {len(plan.changed)}, remove {len(plan.removed)}; "
            f"{plan.unchanged} unchanged."
        )
        for label, ids in (("+", plan.added), ("~", plan.changed), ("-", plan.removed)):
            for i in ids:
                print(f"  {label} {i}")
        return 0
    finally:
        await app.close()


# ---------------------------------------------------------------- db


async def _db(args: argparse.Namespace) -> int:
    from storage import migrate

    settings = _settings()
    await migrate.upgrade_async(settings.database_url, args.revision)
    print(f"Database is at revision {args.revision}.")
    return 0


# ---------------------------------------------------------------- dossiers, api keys, demo


async def _started_app() -> Any:
    from bot.app import App

    settings = _settings()
    app = App.build(settings)
    if settings.is_sqlite:
        from storage import migrate

        await migrate.upgrade_async(settings.database_url)
    return app


@asynccontextmanager
async def _opened_app() -> AsyncIterator[Any]:
    """The app of every subcommand that works on the database: built, migrated (SQLite), and
    closed however the command ends."""
    app = await _started_app()
    try:
        yield app
    finally:
        await app.close()


class _Rollback(Exception):
    """Raised inside a transaction to undo it (dry runs, refused files)."""


async def _dossiers(args: argparse.Namespace) -> int:
    from bot.domain import dossier_files
    from bot.domain.ingest import Ingestor, validate_batch
    from handlers.notifications import DOSSIER_NOTIFICATIONS

    try:
        rows = dossier_files.read(args.file)
    except dossier_files.DossierFileError as exc:
        print(f"{args.file}: nothing was imported.", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p.item} [{p.field}]: {p.message}", file=sys.stderr)
        return 1

    def where(item: str) -> str:  # "dossiers[3]" is row 5 of the file (header, 0-based)
        if item.startswith("dossiers["):
            return f"row {int(item[9:-1]) + 2}"
        return item

    dossiers, events, errors = validate_batch({"dossiers": rows})
    async with _opened_app() as app:
        result = None
        try:
            async with app.sessions() as session, session.begin():
                if not errors:
                    ingestor = Ingestor(app.settings.resolved_secret(), DOSSIER_NOTIFICATIONS)
                    result = await ingestor.apply(session, dossiers, events, scope=None)
                    errors = result.errors
                if errors or args.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        if errors:
            print(f"{args.file}: {len(errors)} problem(s); nothing was imported.", file=sys.stderr)
            for e in errors:
                print(f"  {where(e.item)} [{e.field}]: {e.message}", file=sys.stderr)
            return 1
        assert result is not None
        verb = "Would import" if args.dry_run else "Imported"
        print(
            f"{verb} {len(dossiers)} dossiers: {result.created} new, {result.updated} updated, "
            f"{result.events_applied} status changes, {result.notifications} notifications."
        )
        return 0


async def _apikeys(args: argparse.Namespace) -> int:
    from storage.repositories import apikeys
    from storage.repositories import dossiers as repo

    async with _opened_app() as app:
        async with app.sessions() as session, session.begin():
            if args.apikeys_command == "create":
                agency = await repo.agency_by_code(session, args.agency)
                if agency is None:
                    print(f"Unknown agency code '{args.agency}'.", file=sys.stderr)
                    return 1
                row, key = await apikeys.create(session, name=args.name, agency=agency)
                print(
                    f"API key {row.id} '{row.name}' for {agency.name} ({agency.code}) and the "
                    f"agencies under it. Keep it secret; it is shown only now:\n{key}"
                )
            elif args.apikeys_command == "revoke":
                if not await apikeys.revoke(session, args.id):
                    print(f"No active API key {args.id}.", file=sys.stderr)
                    return 1
                print(f"API key {args.id} revoked.")
            else:
                for row, agency in await apikeys.all_keys(session):
                    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                    print(f"{row.id:4d}  {row.name:30s}  {agency.code:15s}  {state}")
        return 0


async def _users(args: argparse.Namespace) -> int:
    from bot.messages import Channel
    from storage.repositories import dossiers as repo
    from storage.repositories import roles

    async with _opened_app() as app:  # noqa: SIM117
        async with app.sessions() as session, session.begin():
            if args.users_command == "list":
                for grant, agency in await roles.all_grants(session):
                    where = f"{agency.code} {agency.name}" if agency else "toàn thành phố"
                    alerts = "alerts" if grant.alerts else ""
                    print(f"{grant.channel}:{grant.user_id:<15} {grant.role:6} {where}  {alerts}")
                return 0
            channel, _, user_id = args.user.partition(":")
            if channel not in {c.value for c in Channel} or not user_id:
                print(
                    f"Expected CHANNEL:USER_ID (e.g. telegram:123456789), not {args.user!r}.",
                    file=sys.stderr,
                )
                return 2
            user_hash = app.dispatcher.user_hash_of(Channel(channel), user_id)
            if args.users_command == "forget":
                from storage.repositories import retention

                done = await retention.forget(
                    session, channel=channel, user_id=user_id, user_hash=user_hash
                )
                print(f"Personal data of {args.user} removed; anonymous statistics kept.")
                for what, n in done.items():
                    print(f"  {what}: {n}")
                return 0
            if args.users_command == "revoke":
                if not await roles.revoke(session, user_hash):
                    print(f"{args.user} has no role.", file=sys.stderr)
                    return 1
                print(f"{args.user} is a citizen again.")
                return 0
            agency = None
            if args.agency:
                agency = await repo.agency_by_code(session, args.agency)
                if agency is None:
                    print(f"Unknown agency code '{args.agency}'.", file=sys.stderr)
                    return 1
            if args.role == roles.STAFF and agency is None:
                print("Staff need an agency: add --agency CODE.", file=sys.stderr)
                return 2
            await roles.grant(
                session,
                user_hash=user_hash,
                channel=channel,
                user_id=user_id,
                role=args.role,
                agency=agency,
                alerts=args.alerts,
                display_name=args.name,
            )
            scope = f"{agency.name} and the agencies under it" if agency else "the whole city"
            print(f"{args.user} is now {args.role} for {scope}.")
            return 0


async def _demo(args: argparse.Namespace) -> int:
    from bot import demo

    async with _opened_app() as app:
        await app.start(migrate_db=False, watch=False)
        async with app.sessions() as session, session.begin():
            if not await demo.is_empty(session):
                print(
                    "The database already has agencies: the demo fills only an empty one.",
                    file=sys.stderr,
                )
                return 1
            services = app.dispatcher.services
            logins = await demo.generate(
                session,
                secret=services.secret,
                calendar=services.calendar,
                today=services.today(),
                count=args.count,
                progress=lambda done, total: _progress(done, total, "demo dossiers"),
            )
        print(
            f"Illustrative city written: {args.count} dossiers over the last 12 months "
            "(labelled illustrative; not real records)."
        )
        print("Try a lookup in the chat with one of these (fake) dossiers:")
        for login in logins:
            print(
                f"  {login.code}  {login.status.label:<28}  CCCD {login.id_number}  "
                f"phone {login.phone}"
            )
        return 0


# ---------------------------------------------------------------- audit (issue 6)


async def _audit(args: argparse.Namespace) -> int:
    """Print the append-only audit log, oldest first, optionally filtered."""
    from datetime import datetime

    from bot.domain.vietnam_time import VN_TZ
    from storage.repositories import audit

    since = None
    if args.since:
        try:
            since = datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=VN_TZ)
        except ValueError:
            print(f"--since expects YYYY-MM-DD, not {args.since!r}.", file=sys.stderr)
            return 2
    async with _opened_app() as app, app.sessions() as session:
        rows = await audit.query(session, since=since, actor_prefix=args.actor, action=args.action)
    for row in rows:
        if args.json:
            print(json.dumps(audit.as_dict(row), ensure_ascii=False))
        else:
            at = audit.aware(row.at).astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M:%S")
            details = json.dumps(row.details, ensure_ascii=False) if row.details else ""
            who = f"{row.role:7} {row.actor_hash[:12]}"
            print(f"{at}  {who}  {row.action:24} {row.target}  {details}".rstrip())
    return 0


# ---------------------------------------------------------------- end audit


async def _registry(args: argparse.Namespace) -> int:
    """agencies|procedures import|export FILE (logic in bot.domain.registry_import)."""
    from pathlib import Path

    from bot.domain import registry_import as ri

    kind = ri.Kind(args.command)
    async with _opened_app() as app:
        if args.registry_command == "export":
            async with app.sessions() as session:
                try:
                    data = await ri.export_file(session, kind, args.file)
                except ValueError as exc:
                    print(str(exc), file=sys.stderr)
                    return 1
            await asyncio.to_thread(Path(args.file).write_bytes, data)
            print(f"Wrote {args.file} ({len(data):,} bytes).")
            return 0
        try:
            data = await asyncio.to_thread(Path(args.file).read_bytes)
        except OSError as exc:
            print(f"{args.file}: không đọc được tệp ({exc.strerror}).", file=sys.stderr)
            return 1
        async with app.sessions() as session, session.begin():
            result = await ri.import_file(session, kind, args.file, data, dry_run=args.dry_run)
        print(ri.render(result, args.file), file=sys.stdout if result.ok else sys.stderr)
        return 0 if result.ok else 1


def _period_text(args: argparse.Namespace) -> str:
    """--from/--to (ISO or dd/mm/yyyy) as the period language /thongke understands."""
    from datetime import date as date_

    def dmy(value: str) -> str:
        try:
            return date_.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value

    if args.date_from or args.date_to:
        start = dmy(args.date_from) if args.date_from else "01/01/2000"
        end = dmy(args.date_to) if args.date_to else "hôm nay"
        return f"từ {start} đến {end}"
    words = args.period or []
    # Typed unquoted ("năm 2025", "quý 3 2025"), the period arrives as several words.
    return " ".join(words) if isinstance(words, list) else str(words)


async def _stats(args: argparse.Namespace) -> int:
    import json as json_

    from bot.domain.stats import indexes, report
    from bot.domain.stats import reflections as reflection_stats
    from bot.domain.stats.periods import PeriodError, parse_period
    from bot.domain.stats.text import summary_text
    from storage.repositories import dossiers as repo

    async with _opened_app() as app:
        services = app.dispatcher.services
        try:
            period = parse_period(_period_text(args), services.today())
        except PeriodError as exc:
            print(exc, file=sys.stderr)
            return 2
        async with app.sessions() as session:
            agency = None
            if args.agency:
                agency = await repo.agency_by_code(session, args.agency)
                if agency is None:
                    print(f"Unknown agency code '{args.agency}'.", file=sys.stderr)
                    return 1
            if args.command == "report":
                data = await report.build_report(
                    session,
                    period=period,
                    calendar=services.calendar,
                    agency=agency,
                    today=services.today(),
                )
                await asyncio.to_thread(Path(args.file).write_bytes, data)
                print(f"Report for {period.label} written to {args.file} ({len(data):,} bytes).")
                return 0
            stats = await indexes.compute(
                session, period=period, calendar=services.calendar, agency=agency
            )
            pakn = await reflection_stats.compute(
                session, period=period, today=services.today(), agency=agency
            )
        if args.json:
            out = {**indexes.to_json(stats), "reflections": reflection_stats.to_json(pakn)}
            print(json_.dumps(out, ensure_ascii=False, indent=2, default=str))
        else:
            print(summary_text(stats, max_chars=4000))
            print()
            print(reflection_stats.summary_text(pakn, listed=10))
        return 0


async def _purge(args: argparse.Namespace) -> int:
    async with _opened_app() as app:
        deleted = await app.purge()
        print("Deleted past retention: " + ", ".join(f"{k} {v}" for k, v in deleted.items()))
        return 0


async def _staff(args: argparse.Namespace) -> int:
    from bot.staff.cli import staff_command

    async with _opened_app() as app:
        return await staff_command(args, app)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="Trợ lý ảo Một cửa (motcua)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP server (web chat, webhooks, API)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=_serve)

    p = sub.add_parser("chat", help="chat in the terminal")
    p.add_argument(
        "--log-file",
        default="data/motcua-chat.log",
        help="where log lines go instead of the conversation ('-': stderr)",
    )
    p.set_defaults(func=_chat)

    p = sub.add_parser("ask", help="search the knowledge base (one question per line on stdin)")
    p.add_argument("question", nargs="?")
    p.add_argument("--kb", help="search this knowledge file instead of the database")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("-k", type=int, default=5, help="number of candidates (default 5)")
    p.set_defaults(func=_ask)

    p = sub.add_parser("kb", help="validate, import or export knowledge files")
    kb_sub = p.add_subparsers(dest="kb_command", required=True)
    v = kb_sub.add_parser("validate", help="check a YAML, CSV or XLSX file")
    v.add_argument("file")
    v.add_argument(
        "--register", type=Path, help="register directory for legal_refs (default KB_REGISTER_DIR)"
    )
    i = kb_sub.add_parser("import", help="import a file (merge by id)")
    i.add_argument("file")
    i.add_argument("--replace", action="store_true", help="remove entries not in the file")
    i.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    e = kb_sub.add_parser("export", help="export the base (.yaml, .csv or .xlsx)")
    e.add_argument("file")
    # --- register and review list (bot/kb_cli.py) ---
    st = kb_sub.add_parser(
        "stale", help="entries to review (document replaced or expired, overdue)"
    )
    st.add_argument("--json", action="store_true", help="one JSON object per line")
    r = kb_sub.add_parser("register", help="the register of legal documents")
    r_sub = r.add_subparsers(dest="register_command", required=True)
    r_sub.add_parser("list", help="list the documents and whether they are in force")
    ri = r_sub.add_parser("import", help="add or update documents from a register YAML file")
    ri.add_argument("file")
    rr = r_sub.add_parser("replace", help="mark a document replaced by another")
    rr.add_argument("number")
    rr.add_argument("--by", required=True, help="number of the replacing document")
    rr.add_argument("--on", help="first day no longer in force (YYYY-MM-DD; default today)")
    rr.add_argument("--caveat", action="store_true", help="caveat on answers while reviewed")
    rx = r_sub.add_parser("expire", help="set the date a document stops being in force")
    rx.add_argument("number")
    rx.add_argument("--on", required=True, help="YYYY-MM-DD")
    rx.add_argument("--caveat", action="store_true", help="caveat on answers while reviewed")
    rv = kb_sub.add_parser("reviewed", help="record that an entry was checked today")
    rv.add_argument("entry", help="entry id")
    rv.add_argument("--by", help="next review by (YYYY-MM-DD; default in six months)")
    # --- end register ---
    p.set_defaults(func=_kb)

    p = sub.add_parser("db", help="database migrations")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    u = db_sub.add_parser("upgrade", help="apply migrations")
    u.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=_db)
    p = sub.add_parser("dossiers", help="import dossiers exported by the one-stop system")
    d_sub = p.add_subparsers(dest="dossiers_command", required=True)
    di = d_sub.add_parser("import", help="import a CSV or XLSX export (all or nothing)")
    di.add_argument("file")
    di.add_argument("--dry-run", action="store_true", help="validate and report; change nothing")
    p.set_defaults(func=_dossiers)

    p = sub.add_parser("apikeys", help="API keys of the one-stop system (ingest API)")
    k_sub = p.add_subparsers(dest="apikeys_command", required=True)
    kc = k_sub.add_parser("create", help="create a key for an agency and those under it")
    kc.add_argument("name")
    kc.add_argument("--agency", required=True, help="agency code, e.g. 000.00.12.H13")
    kr = k_sub.add_parser("revoke", help="revoke a key")
    kr.add_argument("id", type=int)
    k_sub.add_parser("list", help="list keys")
    p.set_defaults(func=_apikeys)

    p = sub.add_parser("users", help="staff and admin roles")
    u_sub = p.add_subparsers(dest="users_command", required=True)
    ug = u_sub.add_parser("grant", help="grant a role: staff (with --agency) or admin")
    ug.add_argument("user", help="CHANNEL:USER_ID, e.g. telegram:123456789")
    ug.add_argument("role", choices=["staff", "admin"])
    ug.add_argument("--agency", help="agency code; staff see it and the agencies under it")
    ug.add_argument("--alerts", action="store_true", help="send dissatisfaction alerts")
    ug.add_argument("--name", help="display name shown in the console and the KB history")
    ur = u_sub.add_parser("revoke", help="make a user a citizen again")
    ur.add_argument("user")
    u_sub.add_parser("list", help="list staff and admins")
    uf = u_sub.add_parser("forget", help="remove a citizen's personal data (keeps statistics)")
    uf.add_argument("user", help="CHANNEL:USER_ID")
    p.set_defaults(func=_users)

    for name, helptext in (
        ("stats", "statistics of a period (as /thongke)"),
        ("report", "the Excel report of a period (as /baocao)"),
    ):
        p = sub.add_parser(name, help=helptext)
        if name == "report":
            p.add_argument("file", help="where to write the .xlsx")
        p.add_argument(
            "period", nargs="*", help="e.g. tháng, quý 2/2026, năm 2025, tuần này (unquoted)"
        )
        p.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD or dd/mm/yyyy)")
        p.add_argument("--to", dest="date_to", help="last day")
        p.add_argument("--agency", help="agency code (default: the whole city)")
        if name == "stats":
            p.add_argument("--json", action="store_true", help="every figure as JSON")
        p.set_defaults(func=_stats)

    for name in ("agencies", "procedures"):
        p = sub.add_parser(name, help=f"import or export the city's {name} (CSV or XLSX)")
        r_sub = p.add_subparsers(dest="registry_command", required=True)
        ri = r_sub.add_parser("import", help="merge a file by code (all or nothing)")
        ri.add_argument("file")
        ri.add_argument("--dry-run", action="store_true", help="show what would change")
        r_sub.add_parser("export", help="write a .csv or .xlsx file").add_argument("file")
        p.set_defaults(func=_registry)

    p = sub.add_parser("purge", help="delete logs past their retention (also runs daily)")
    p.set_defaults(func=_purge)

    p = sub.add_parser("demo", help="fill an empty database with an illustrative city")
    p.add_argument("--count", type=int, default=5000, help="number of dossiers (default 5000)")
    p.set_defaults(func=_demo)
    # --- audit (issue 6) ---
    p = sub.add_parser("audit", help="read the audit log of admin and staff actions")
    p.add_argument("--since", help="from this day on (YYYY-MM-DD, Vietnam time)")
    p.add_argument("--actor", help="only actors whose hash starts with this")
    p.add_argument("--action", help="only this action, e.g. kb.answer")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=_audit)
    # --- end audit ---
    # --- staff console (bot/staff/cli.py) ---
    p = sub.add_parser("staff", help="the staff web console: sign-in links, sessions")
    s_sub = p.add_subparsers(dest="staff_command", required=True)
    sl = s_sub.add_parser("link", help="print a one-time sign-in link (10 minutes)")
    sl.add_argument("user", help="CHANNEL:USER_ID of a staff member or admin")
    so = s_sub.add_parser("logout", help="end every console session of a user")
    so.add_argument("user", help="CHANNEL:USER_ID")
    p.set_defaults(func=_staff)
    # --- end staff console ---
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.config import Settings
    from bot.logging_setup import setup_logging

    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError: a wrong setting
        print(f"Invalid configuration: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_json)
    from bot.config import SecretKeyError

    try:
        return int(asyncio.run(args.func(args)))
    except SecretKeyError as exc:
        print(f"Invalid configuration: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
