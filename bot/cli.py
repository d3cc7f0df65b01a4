"""``motcua``: serve, chat, ask, kb, db."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

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

    app = App.build(_settings())
    try:
        await app.start(watch=False)
        await console.run(app.dispatcher)
    finally:
        await app.close()
    return 0


# ---------------------------------------------------------------- ask


async def _ask(args: argparse.Namespace) -> int:
    from knowledge import kbfile
    from knowledge.search import Index

    if args.kb:
        try:
            index = Index(kbfile.load(args.kb))
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
        if args.json:
            print(
                json.dumps(
                    {
                        "query": q,
                        "decision": result.decision.value,
                        "matches": [{"id": m.entry.id, "score": m.score} for m in result.matches],
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
        else:
            print(f"? {q}\n  -> {result.decision.value}")
            for m in result.matches:
                print(f"     {m.score:6.3f}  {m.entry.id}  {m.entry.question}")
            if result.best and result.decision.value == "answer":
                print("\n" + result.best.entry.answer)
    return 0


# ---------------------------------------------------------------- kb


def _print_problems(path: str, exc: Exception) -> None:
    from knowledge.kbfile import KbFileError

    problems = exc.problems if isinstance(exc, KbFileError) else ()
    print(f"{path}: {len(problems)} problem(s); nothing was imported.", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)


async def _kb(args: argparse.Namespace) -> int:
    from knowledge import kbfile

    if args.kb_command == "validate":
        try:
            entries = kbfile.load(args.file)
        except kbfile.KbFileError as exc:
            _print_problems(args.file, exc)
            return 1
        print(f"{args.file}: {len(entries)} entries, no problems.")
        return 0

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
        async with app.sessions() as session, session.begin():
            plan = await kb_repo.apply_import(
                session, entries, replace=args.replace, dry_run=args.dry_run
            )
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="Trợ lý ảo Một cửa (motcua)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP server (web chat, webhooks, API)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=_serve)

    p = sub.add_parser("chat", help="chat in the terminal")
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
    i = kb_sub.add_parser("import", help="import a file (merge by id)")
    i.add_argument("file")
    i.add_argument("--replace", action="store_true", help="remove entries not in the file")
    i.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    e = kb_sub.add_parser("export", help="export the base (.yaml, .csv or .xlsx)")
    e.add_argument("file")
    p.set_defaults(func=_kb)

    p = sub.add_parser("db", help="database migrations")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    u = db_sub.add_parser("upgrade", help="apply migrations")
    u.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=_db)
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
    try:
        return int(asyncio.run(args.func(args)))
    except KeyboardInterrupt:
        return 130
