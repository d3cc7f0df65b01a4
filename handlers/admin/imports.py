"""Knowledge files sent by an admin: read before the transaction, previewed, applied, undone."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.messages import Attachment, Choice, IncomingFile, Outcome, Reply
from handlers import texts_admin as t
from handlers.admin.flow import (
    CANCEL,
    Changed,
    audit_action,
    enter,
    expired,
    flow_data,
    left,
    say,
    short_label,
    show_preview,
    stale,
)
from handlers.buttons import (
    AdminConfirm,
    AdminImport,
)
from handlers.context import Context
from knowledge import filelimits, kbfile
from knowledge.entry import Entry
from knowledge.register import check_refs
from storage.models.admin import KbHistory
from storage.repositories import audit, kb_changes, legal
from storage.repositories import kb as kb_repo
from storage.repositories import kb_admin as repo

log = logging.getLogger(__name__)
MAX_LISTED = 15  # entries named per section of an import preview
MAX_UNPACKED_XLSX = filelimits.MAX_UNPACKED_XLSX  # the same limit as the command line
MAX_PROBLEMS_SHOWN = 30  # more are sent as an attached text file


def _problems_reply(name: str, problems: Sequence[kbfile.Problem]) -> Reply:
    """Every problem, in Vietnamese; beyond ``MAX_PROBLEMS_SHOWN`` the full list is attached."""
    lines = [
        t.PROBLEM_LINE.format(
            where=t.translate_where(p.where),
            field=t.PROBLEM_FIELD.format(field=p.field) if p.field else "",
            message=t.translate_problem(p.message),
        )
        for p in problems
    ]
    shown = lines[:MAX_PROBLEMS_SHOWN]
    if len(lines) > MAX_PROBLEMS_SHOWN:
        shown.append(t.FILE_MORE_PROBLEMS.format(count=len(lines) - MAX_PROBLEMS_SHOWN))
    text = t.FILE_REFUSED.format(name=name, count=len(problems), problems="\n".join(shown))
    document = None
    if len(lines) > MAX_PROBLEMS_SHOWN:
        report = ("\n".join(lines) + "\n").encode()
        document = Attachment(f"loi-{name}.txt", report, "text/plain")
    return Reply(text, document=document)


@dataclass(frozen=True)
class ParsedUpload:
    """A knowledge file read and validated before the update's transaction (see
    ``parse_upload``): the entries, or the problems, or why it could not be read."""

    file: IncomingFile
    name: str
    fmt: str = ""
    entries: tuple[Entry, ...] = ()
    problems: tuple[kbfile.Problem, ...] = ()
    refusal: str = ""


async def parse_upload(file: IncomingFile) -> ParsedUpload:
    """Read and validate an admin's knowledge file, in a thread and with no database session.

    The dispatcher calls this before it opens the update's transaction, so that parsing a large
    workbook (seconds) never holds the write lock that every other chat waits for.
    """
    name = file.name.replace("/", "_")[:120] or "tep"
    try:
        fmt = kbfile.detect_format(name)
        if fmt == "xlsx" and filelimits.unpacked_size(file.content) > MAX_UNPACKED_XLSX:
            limit = MAX_UNPACKED_XLSX // (1024 * 1024)
            return ParsedUpload(
                file, name, fmt, refusal=t.FILE_TOO_BIG_UNPACKED.format(name=name, limit=limit)
            )
        entries = await asyncio.to_thread(kbfile.parse, file.content, fmt)
    except kbfile.KbFileError as exc:
        return ParsedUpload(file, name, problems=exc.problems)
    except (RecursionError, MemoryError, ValueError, TypeError, KeyError) as exc:
        log.warning("an admin's knowledge file could not be read: %r", exc)
        return ParsedUpload(file, name, refusal=t.FILE_UNREADABLE.format(name=name))
    return ParsedUpload(file, name, fmt, entries=tuple(entries))


async def _unknown_documents(ctx: Context, entries: Sequence[Entry]) -> list[kbfile.Problem]:
    if not any(e.legal_refs for e in entries):
        return []
    register = await legal.register(ctx.session)
    return check_refs(entries, register, ctx.services.today())[0]


async def file_received(ctx: Context) -> Outcome:
    """A knowledge file: report every problem, or preview what would change (nothing applied)."""
    file = ctx.incoming.file
    assert file is not None
    parsed = ctx.prepared
    if not isinstance(parsed, ParsedUpload) or parsed.file is not file:
        parsed = await parse_upload(file)  # not prepared outside the transaction
    name, fmt = parsed.name, parsed.fmt
    if parsed.refusal:
        return say(ctx, parsed.refusal)
    if parsed.problems:
        return Outcome((_problems_reply(name, parsed.problems),), ctx.state)
    entries = list(parsed.entries)
    unknown = await _unknown_documents(ctx, entries)  # legal_refs missing from the register
    if unknown:
        return Outcome((_problems_reply(name, unknown),), ctx.state)
    current = {e.id: e for e in await kb_repo.all_entries(ctx.session)}
    merge = kb_repo.plan_import(list(current.values()), entries, replace=False)
    kept = len(set(current) - {e.id for e in entries})
    if merge.is_empty and not kept:
        return say(ctx, t.FILE_NO_CHANGE.format(name=name, count=len(entries)))
    nonce = await repo.create_pending(
        ctx.session, actor_hash=ctx.user_hash, file_name=name, fmt=fmt, entries=entries
    )
    return _import_preview(ctx, name, entries, current, replace_all=False, pending_nonce=nonce)


def _listed(ids: Sequence[str], render: Callable[[str], str]) -> list[str]:
    lines = [f"  • {render(i)}" for i in ids[:MAX_LISTED]]
    if len(ids) > MAX_LISTED:
        lines.append(t.IMPORT_MORE.format(count=len(ids) - MAX_LISTED))
    return lines


def _changed_fields(before: Entry, after: Entry) -> str:
    old, new = repo.snapshot(before) or {}, repo.snapshot(after) or {}
    return ", ".join(t.FIELD_LABELS.get(k, k).lower() for k in old if old[k] != new[k])


def _import_preview(
    ctx: Context,
    name: str,
    entries: Sequence[Entry],
    current: dict[str, Entry],
    *,
    replace_all: bool,
    pending_nonce: str,
) -> Outcome:
    plan = kb_repo.plan_import(list(current.values()), entries, replace=replace_all)
    incoming = {e.id: e for e in entries}
    head = t.IMPORT_PREVIEW_REPLACE_HEAD if replace_all else t.IMPORT_PREVIEW_HEAD
    lines = [head.format(name=name, count=len(entries))]
    if plan.added:
        lines.append(t.IMPORT_ADDED.format(count=len(plan.added)))
        lines += _listed(plan.added, lambda i: f"{i}: {short_label(incoming[i].question)}")
    if plan.changed:
        lines.append(t.IMPORT_CHANGED.format(count=len(plan.changed)))
        lines += _listed(
            plan.changed,
            lambda i: t.IMPORT_CHANGED_FIELDS.format(
                id=i, fields=_changed_fields(current[i], incoming[i])
            ),
        )
    if plan.removed:
        lines.append(t.IMPORT_REMOVED.format(count=len(plan.removed)))
        lines += _listed(plan.removed, lambda i: f"{i}: {short_label(current[i].question)}")
    if plan.unchanged:
        lines.append(t.IMPORT_UNCHANGED.format(count=plan.unchanged))
    kept = len(set(current) - set(incoming))
    if kept and not replace_all:
        lines.append(t.IMPORT_KEPT.format(count=kept))
    nonce = secrets.token_hex(4)
    fp = repo.fingerprint(repo.touched(current, plan))
    state = enter(
        ctx,
        "confirm",
        nonce=nonce,
        action="import",
        name=name,
        replace=replace_all,
        fp=fp,
        plan=[len(plan.added), len(plan.changed), len(plan.removed)],
        **{"import": pending_nonce},
    )
    choices = []
    if not plan.is_empty:
        choices.append(Choice(t.IMPORT_APPLY, AdminConfirm(nonce).pack()))
    if kept and not replace_all:
        choices.append(
            Choice(t.IMPORT_REPLACE.format(count=kept), AdminImport("rep", nonce).pack())
        )
    choices.append(CANCEL)
    return say(ctx, "\n".join(lines), *choices, state=state)


async def import_button(ctx: Context) -> Outcome:
    """Import buttons: preview replacing the whole base, or preview undoing an applied import."""
    pressed = AdminImport.parse(ctx.incoming.choice)
    if pressed is None:
        return await stale(ctx)
    if pressed.verb == "rep":
        data = flow_data(ctx)
        if ctx.state.step != "confirm" or data.get("nonce") != pressed.ref:
            return say(ctx, t.STALE_CONFIRM)
        if expired(data) or data.get("action") != "import":
            return say(ctx, t.FLOW_EXPIRED, state=left(ctx))
        row = await repo.pending(ctx.session, str(data["import"]), ctx.user_hash)
        if row is None:
            return say(ctx, t.IMPORT_EXPIRED, state=left(ctx))
        current = {e.id: e for e in await kb_repo.all_entries(ctx.session)}
        return _import_preview(
            ctx,
            row.file_name,
            repo.pending_entries(row),
            current,
            replace_all=True,
            pending_nonce=row.nonce,
        )
    return await _undo_import_preview(ctx, pressed.ref)


async def apply_import(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    row = await repo.pending(ctx.session, str(data.get("import", "")), ctx.user_hash)
    if row is None:
        raise Changed(t.IMPORT_EXPIRED)
    entries = repo.pending_entries(row)
    current = {e.id: e for e in await kb_repo.all_entries(ctx.session)}
    replace_all = bool(data.get("replace"))
    plan = kb_repo.plan_import(list(current.values()), entries, replace=replace_all)
    if repo.fingerprint(repo.touched(current, plan)) != data.get("fp"):
        await repo.drop_pending(ctx.session, row.nonce)
        raise Changed(t.CHANGED_IMPORT)
    batch = row.nonce
    try:
        # A savepoint: if any entry fails, the base is left exactly as it was and the admin is
        # told so, instead of the generic apology of a rolled-back update.
        async with ctx.session.begin_nested():
            plan = await repo.import_entries(
                ctx.session, entries, replace=replace_all, actor_hash=ctx.user_hash, batch=batch
            )
            await kb_repo.bump_revision(ctx.session)
    except Exception:
        log.exception("a confirmed knowledge import failed; nothing was applied")
        await repo.drop_pending(ctx.session, row.nonce)
        raise Changed(t.IMPORT_FAILED) from None
    await repo.drop_pending(ctx.session, row.nonce)
    await kb_changes.record_import(
        ctx.session,
        actor_hash=ctx.user_hash,
        role=ctx.actor.role,
        file_name=row.file_name,
        fmt=row.fmt,
        replace_all=replace_all,
        batch=batch,
        plan=plan,
    )
    text = t.IMPORT_DONE.format(
        name=row.file_name,
        added=len(plan.added),
        changed=len(plan.changed),
        removed=len(plan.removed),
    )
    return [Reply(text, (Choice(t.IMPORT_UNDO, AdminImport("undo", batch).pack()),))]


async def _undo_plan(ctx: Context, batch: str) -> tuple[list[KbHistory], list[str]]:
    """The import's changes, and the entries changed again since (which block the undo)."""
    changes = await repo.batch_changes(ctx.session, batch)
    later = []
    for change in changes:
        last = await repo.last_change(ctx.session, change.entry_id)
        if last is None or last.id != change.id:
            later.append(change.entry_id)
    return changes, later


async def _undo_import_preview(ctx: Context, batch: str) -> Outcome:
    changes, later = await _undo_plan(ctx, batch)
    if not changes or any(c.action != "import" for c in changes):
        return await stale(ctx)
    if later:
        ids = ", ".join(later[:MAX_LISTED])
        return say(ctx, t.UNDO_IMPORT_BLOCKED.format(count=len(later), ids=ids))
    name = await _import_name(ctx, batch)
    current = [await repo.get(ctx.session, c.entry_id) for c in changes]
    text = t.PREVIEW_UNDO_IMPORT.format(name=name, count=len(changes))
    return show_preview(ctx, text, "undo_import", batch=batch, fp=repo.fingerprint(current))


async def _import_name(ctx: Context, batch: str) -> str:
    """The file name of an applied import, from its audit row (the pending row is gone)."""
    for row in reversed(await audit.query(ctx.session, action="kb.import")):
        if (row.details or {}).get("batch") == batch:
            return row.target
    return batch


async def apply_undo_import(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    batch = str(data["batch"])
    changes, later = await _undo_plan(ctx, batch)
    current = [await repo.get(ctx.session, c.entry_id, for_update=True) for c in changes]
    if later or not changes or repo.fingerprint(current) != data.get("fp"):
        raise Changed(t.CHANGED_IMPORT)
    undo = f"undo-{batch}"[:32]
    for change in changes:
        await repo.rollback(ctx.session, change, actor_hash=ctx.user_hash, batch=undo)
    await kb_repo.bump_revision(ctx.session)
    await audit_action(ctx, "kb.rollback_import", batch, entries=len(changes))
    return [Reply(t.DONE_UNDO_IMPORT.format(count=len(changes)))]
