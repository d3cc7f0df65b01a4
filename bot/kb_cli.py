"""``motcua kb stale``, ``motcua kb register ...`` and the register checks of validate/import."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from knowledge import register as register_file
from knowledge.entry import Entry
from knowledge.kbfile import KbFileError, Problem
from storage.repositories import legal


def _today() -> date:
    from handlers.context import vietnam_today

    return vietnam_today()


def _print(path: str, problems: Sequence[Problem], header: str) -> None:
    print(f"{path}: {header}", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)


def validate_refs(path: str, entries: Sequence[Entry], directory: Path) -> int:
    """Exit status of ``kb validate`` once the file itself is valid."""
    cited = [e for e in entries if e.legal_refs]
    if not cited:
        print(f"{path}: {len(entries)} entries, no problems.")
        return 0
    try:
        reg = register_file.load_dir(directory)
    except KbFileError as exc:
        _print(str(directory), exc.problems, "the register has problems")
        return 1
    problems, warnings = register_file.check_refs(entries, reg, _today())
    if problems:
        _print(path, problems, f"{len(problems)} problem(s) with legal_refs")
        return 1
    if warnings:
        _print(path, warnings, f"{len(warnings)} warning(s): documents no longer in force")
    print(f"{path}: {len(entries)} entries, no problems.")
    return 0


async def refs_refused(
    session: AsyncSession, path: str, entries: Sequence[Entry], settings: Settings
) -> bool:
    """``kb import``: refuse a file citing documents the database's register does not hold."""
    if not any(e.legal_refs for e in entries):
        return False
    from bot import kb_review

    await kb_review.sync_bundled(session, settings.kb_register_dir)  # a fresh database too
    problems, warnings = register_file.check_refs(entries, await legal.register(session), _today())
    if problems:
        _print(path, problems, f"{len(problems)} problem(s); nothing was imported.")
        return True
    if warnings:
        _print(path, warnings, f"{len(warnings)} warning(s): documents no longer in force")
    return False


async def sweep_after_import(session: AsyncSession) -> None:
    from bot import kb_review

    await kb_review.sweep(session, _today())


def item_json(item: Any, entry: Entry | None) -> dict[str, Any]:
    return {
        "entry_id": item.entry_id,
        "question": entry.question if entry else "",
        "reason": item.reason,
        "document": item.document_number,
        "event": item.event,
        "since": item.since,
        "listed_at": item.created_at.isoformat(),
    }


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot import kb_review
    from bot.app import App
    from storage import migrate
    from storage.repositories import kb as kb_repo

    app = App.build(settings)
    try:
        if settings.is_sqlite:
            await migrate.upgrade_async(settings.database_url)
        async with app.sessions() as session, session.begin():
            try:
                await kb_review.sync_bundled(session, settings.kb_register_dir)
            except KbFileError as exc:
                _print(str(settings.kb_register_dir), exc.problems, "the register has problems")
                return 1
            if args.kb_command == "register":
                status = await _register(session, args)
                if status:
                    return status
            if args.kb_command == "reviewed":
                return await _reviewed(session, args)
            result = await kb_review.sweep(session, _today())
            if args.kb_command == "register":
                if args.register_command in ("replace", "expire", "import"):
                    print(
                        f"Review list: {result.opened} new, {result.open_total} open; "
                        f"{result.alerts} alert(s) queued."
                    )
                return 0
            items = await legal.open_items(session)
            entries = {e.id: e for e in await kb_repo.all_entries(session)}
        for item in items:
            entry = entries.get(item.entry_id)
            if args.json:
                print(json.dumps(item_json(item, entry), ensure_ascii=False))
            else:
                what = item.event.replace(":", " ")
                doc = f" {item.document_number}" if item.document_number else ""
                print(f"{item.since}  {item.entry_id:45s} {what}{doc}")
        if not args.json:
            print(f"{len(items)} entr{'y' if len(items) == 1 else 'ies'} to review.")
        return 0
    finally:
        await app.close()


async def _reviewed(session: AsyncSession, args: argparse.Namespace) -> int:
    from bot import kb_review

    due = _date(args.by) if args.by else None
    if args.by and (due is None or due <= _today()):
        print(f"--by must be a later date YYYY-MM-DD, not {args.by!r}.", file=sys.stderr)
        return 2
    entry = await kb_review.mark_reviewed(
        session, args.entry, _today(), review_by=due, actor_hash="cli"
    )
    if entry is None:
        print(f"No entry {args.entry}.", file=sys.stderr)
        return 1
    print(f"{entry.id}: reviewed {entry.reviewed}, next review by {entry.review_by}.")
    return 0


def _date(value: str | None) -> date | None:
    if value is None:
        return _today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        print(f"Expected a date YYYY-MM-DD, not {value!r}.", file=sys.stderr)
        return None


async def _register(session: AsyncSession, args: argparse.Namespace) -> int:
    command = args.register_command
    if command == "list":
        reg = await legal.register(session)
        today = _today()
        for d in reg.documents.values():
            state = "in force" if d.in_force(today) else "NOT in force"
            extra = f" (replaced by {d.replaced_by})" if d.replaced_by else ""
            until = f" until {d.expired}" if d.expired else ""
            print(f"{d.number:22s} {state:12s} from {d.effective}{until}{extra}  {d.title}")
        return 0
    if command == "import":
        try:
            docs = register_file.load(args.file)
        except KbFileError as exc:
            _print(args.file, exc.problems, "nothing was imported")
            return 1
        changed = await legal.sync_documents(session, docs, origin=legal.ADMIN)
        print(f"{changed} document(s) added or changed.")
        return 0
    on = _date(args.on)
    if on is None:
        return 2
    caveat = True if args.caveat else None
    if command == "replace":
        done = await legal.mark_replaced(session, args.number, args.by, on, caveat=caveat)
    else:
        done = await legal.mark_expired(session, args.number, on, caveat=caveat)
    if done is None:
        print(f"No document {args.number} in the register.", file=sys.stderr)
        return 1
    print(f"{done.number}: no longer in force from {done.expired}.")
    return 0
