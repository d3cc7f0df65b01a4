"""/faq: finding and reading entries, their history, categories, and the export."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from rapidfuzz import fuzz, process

from bot.messages import Attachment, Choice, Outcome, Reply
from handlers import texts_admin as t
from handlers.admin.edit import start_new_entry
from handlers.admin.flow import (
    CANCEL,
    args_of,
    audit_action,
    category_ref,
    enter,
    local_time,
    ref_of,
    resolve_ref,
    say,
    short_label,
    show_preview,
    stale,
)
from handlers.buttons import (
    AdminCategory,
    AdminEntry,
)
from handlers.context import Context
from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.normalize import fold
from storage.repositories import kb as kb_repo
from storage.repositories import kb_admin as repo
from storage.repositories import roles

EXPORT_TYPES = {
    "yaml": "application/yaml",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

MAX_RESULTS = 8


async def faq_command(ctx: Context) -> Outcome:
    """/faq with a sub-command (``SUB_COMMANDS``): tìm, xem, thêm, lĩnh vực, xuất; anything
    else is a search."""
    args = args_of(ctx)
    words = args.split(maxsplit=1)
    sub = fold(words[0]) if words else ""
    rest = words[1].strip() if len(words) > 1 else ""
    if sub == "linh" and fold(rest).startswith("vuc"):  # "lĩnh vực" typed as two words
        sub = "linhvuc"
    if sub not in SUB_COMMANDS:
        return await search(ctx, args)
    return await SUB_COMMANDS[sub](ctx, rest)


async def _help(ctx: Context, rest: str) -> Outcome:
    return say(ctx, t.HELP)


async def _view(ctx: Context, rest: str) -> Outcome:
    entry = await repo.get(ctx.session, rest.strip().lower())
    if entry is None:
        return say(ctx, t.NOT_FOUND.format(id=rest))
    return await show_entry(ctx, entry)


async def _new(ctx: Context, rest: str) -> Outcome:
    return await start_new_entry(ctx)


async def _export(ctx: Context, rest: str) -> Outcome:
    return await export(ctx, fold(rest).strip() or "yaml")


async def _categories(ctx: Context, rest: str) -> Outcome:
    return await list_categories(ctx)


async def search(ctx: Context, query: str) -> Outcome:
    """Finds entries (enabled or not): the index's ranking first, then a fuzzy pass over all."""
    query = query.strip()
    if not query:
        return say(ctx, t.ASK_KEYWORDS)
    entries = await kb_repo.all_entries(ctx.session)
    exact = next((e for e in entries if e.id == query.lower()), None)
    if exact is not None:
        return await show_entry(ctx, exact)
    found: list[str] = [m.entry.id for m in ctx.index.search(query, k=5).matches]
    haystacks = {
        e.id: fold(" ".join((e.id, e.question, *e.alternatives, *e.keywords))) for e in entries
    }
    for _, score, eid in process.extract(
        fold(query), haystacks, scorer=fuzz.token_set_ratio, limit=MAX_RESULTS * 2
    ):
        if score >= 70:
            found.append(eid)
    by_id = {e.id: e for e in entries}
    hits = [by_id[i] for i in dict.fromkeys(found) if i in by_id][:MAX_RESULTS]
    if not hits:
        return say(ctx, t.NO_RESULTS.format(query=query))
    choices = [
        Choice(
            short_label((t.DISABLED_MARK if not e.enabled else "") + e.question),
            AdminEntry("v", ref_of(e.id)).pack(),
        )
        for e in hits
    ]
    return say(ctx, t.RESULTS.format(query=query, count=len(hits)), *choices)


def _entry_text(entry: Entry) -> str:
    lines = [t.ENTRY_HEAD.format(id=entry.id, status=t.ENTRY_ON if entry.enabled else t.ENTRY_OFF)]
    for name in ("category", "procedure", "question"):
        value = getattr(entry, name)
        if value:
            lines.append(f"{t.FIELD_LABELS[name]}: {value}")
    for name in ("alternatives", "keywords"):
        values = getattr(entry, name)
        if values:
            lines.append(f"{t.FIELD_LABELS[name]}: " + "; ".join(values))
    lines.append(f"{t.FIELD_LABELS['answer']}:\n{entry.answer}")
    for name in ("legal_basis", "source_url"):
        value = getattr(entry, name)
        if value:
            lines.append(f"{t.FIELD_LABELS[name]}: {value}")
    return "\n".join(lines)


async def show_entry(ctx: Context, entry: Entry) -> Outcome:
    ref = ref_of(entry.id)
    text = _entry_text(entry)
    last = await repo.last_change(ctx.session, entry.id)
    if last is not None:
        action = t.ACTIONS.get(last.action, last.action)
        text += "\n" + t.LAST_CHANGE.format(at=local_time(last.at), action=action)
    choices = [
        Choice(t.EDIT_ANSWER, AdminEntry("ans", ref).pack()),
        Choice(t.ADD_ALTERNATIVE, AdminEntry("alt", ref).pack()),
        Choice(t.DISABLE, AdminEntry("off", ref).pack())
        if entry.enabled
        else Choice(t.ENABLE, AdminEntry("on", ref).pack()),
        Choice(t.HISTORY, AdminEntry("h", ref).pack()),
    ]
    if last is not None:
        choices.append(Choice(t.ROLLBACK, AdminEntry("rb", ref).pack()))
    return say(ctx, text, *choices)


async def entry_button(ctx: Context) -> Outcome:
    """Buttons under an entry (``ENTRY_VERBS``): view, edit answer, add phrasing,
    disable/enable, history, undo."""
    pressed = AdminEntry.parse(ctx.incoming.choice)
    if pressed is None:
        return await stale(ctx)
    entry = await resolve_ref(ctx, pressed.ref)
    if entry is None:
        return await stale(ctx)
    return await ENTRY_VERBS[pressed.verb](ctx, entry)


async def _ask_answer(ctx: Context, entry: Entry) -> Outcome:
    prompt = t.ASK_ANSWER.format(question=entry.question)
    return say(ctx, prompt, CANCEL, state=enter(ctx, "answer", entry=entry.id))


async def _ask_alternative(ctx: Context, entry: Entry) -> Outcome:
    prompt = t.ASK_ALTERNATIVE.format(question=entry.question)
    return say(ctx, prompt, CANCEL, state=enter(ctx, "alternative", entry=entry.id))


async def _preview_toggle(ctx: Context, entry: Entry, on: bool) -> Outcome:
    if entry.enabled == on:
        return await show_entry(ctx, entry)  # already so: show the entry as it is
    template = t.PREVIEW_ENABLE if on else t.PREVIEW_DISABLE
    text = template.format(id=entry.id, question=entry.question)
    action = "enable" if on else "disable"
    return show_preview(ctx, text, action, entry=entry.id, fp=repo.fingerprint([entry]))


async def _preview_off(ctx: Context, entry: Entry) -> Outcome:
    return await _preview_toggle(ctx, entry, on=False)


async def _preview_on(ctx: Context, entry: Entry) -> Outcome:
    return await _preview_toggle(ctx, entry, on=True)


async def _history(ctx: Context, entry: Entry) -> Outcome:
    rows = await repo.history(ctx.session, entry.id, 5)
    if not rows:
        return say(ctx, t.HISTORY_EMPTY.format(id=entry.id))
    lines = [t.HISTORY_HEAD.format(id=entry.id)]
    names = await roles.display_names(ctx.session, [row.actor_hash for row in rows])
    for row in rows:
        action = t.ACTIONS.get(row.action, row.action)
        actor = names.get(row.actor_hash) or row.actor_hash[:8]
        lines.append(t.HISTORY_LINE.format(at=local_time(row.at), action=action, actor=actor))
    return say(ctx, "\n".join(lines), Choice(t.ROLLBACK, AdminEntry("rb", ref_of(entry.id)).pack()))


def _show_value(name: str, value: Any) -> str:
    if name == "enabled":
        return t.ON if value else t.OFF
    if isinstance(value, list | tuple):
        return "; ".join(value) or t.NONE
    return str(value) if value else t.NONE


def diff_lines(before: Entry, after: Entry) -> list[str]:
    """One line per field that differs, with its value before and after."""
    old, new = repo.snapshot(before) or {}, repo.snapshot(after) or {}
    return [
        t.DIFF_LINE.format(
            label=t.FIELD_LABELS.get(name, name),
            before=_show_value(name, old[name]),
            after=_show_value(name, new[name]),
        )
        for name in old
        if old[name] != new[name]
    ]


async def _rollback_preview(ctx: Context, entry: Entry) -> Outcome:
    change = await repo.last_change(ctx.session, entry.id)
    if change is None:
        return say(ctx, t.NO_HISTORY.format(id=entry.id))
    back = repo.restored(change)
    diff = t.ROLLBACK_DELETES if back is None else "\n".join(diff_lines(entry, back))
    text = t.PREVIEW_ROLLBACK.format(
        action=t.ACTIONS.get(change.action, change.action),
        at=local_time(change.at),
        id=entry.id,
        diff=diff,
    )
    return show_preview(
        ctx, text, "rollback", entry=entry.id, change=change.id, fp=repo.fingerprint([entry])
    )


async def list_categories(ctx: Context) -> Outcome:
    """/faq lĩnh vực: every category with how many of its entries are on."""
    cats = await repo.categories(ctx.session)
    if not cats:
        return say(ctx, t.NO_ENTRIES)
    choices = [
        Choice(
            short_label(t.CATEGORY_LINE.format(category=c, enabled=on, total=n)),
            AdminCategory("v", category_ref(c)).pack(),
        )
        for c, n, on in cats
    ]
    return say(ctx, t.CATEGORIES, *choices)


async def category_button(ctx: Context) -> Outcome:
    """A category: view it, or preview turning all its entries off or on."""
    pressed = AdminCategory.parse(ctx.incoming.choice)
    if pressed is None:
        return await stale(ctx)
    cats = {category_ref(c): (c, n, on) for c, n, on in await repo.categories(ctx.session)}
    found = cats.get(pressed.ref)
    if found is None:
        return await stale(ctx)
    category, total, enabled = found
    ref = pressed.ref
    if pressed.verb == "v":
        choices = []
        if enabled:
            choices.append(Choice(t.CATEGORY_OFF, AdminCategory("off", ref).pack()))
        if enabled < total:
            choices.append(Choice(t.CATEGORY_ON, AdminCategory("on", ref).pack()))
        text = t.CATEGORY_VIEW.format(category=category, enabled=enabled, total=total)
        return say(ctx, text, *choices)
    on = pressed.verb == "on"
    entries = await repo.of_category(ctx.session, category)
    count = sum(1 for e in entries if e.enabled != on)
    if not count:
        text = t.CATEGORY_VIEW.format(category=category, enabled=enabled, total=total)
        return say(ctx, text)
    template = t.PREVIEW_CATEGORY_ON if on else t.PREVIEW_CATEGORY_OFF
    return show_preview(
        ctx,
        template.format(category=category, count=count),
        "enable_category" if on else "disable_category",
        category=category,
        fp=repo.fingerprint(entries),
    )


async def export(ctx: Context, fmt: str) -> Outcome:
    """/faq xuất: the whole base (disabled entries too) as a file; spreadsheet cells neutralised."""
    fmt = {"yml": "yaml", "excel": "xlsx"}.get(fmt, fmt)
    if fmt not in EXPORT_TYPES:
        return say(ctx, t.UNKNOWN_FORMAT.format(fmt=fmt))
    entries = await kb_repo.all_entries(ctx.session)
    content = await asyncio.to_thread(kbfile.dump, entries, fmt)
    name = f"motcua-kb-{ctx.services.today():%Y%m%d}.{fmt}"
    await audit_action(ctx, "kb.export", name, format=fmt, entries=len(entries))
    document = Attachment(name, content, EXPORT_TYPES[fmt])
    text = t.EXPORTED.format(count=len(entries), fmt=fmt.upper())
    return Outcome((Reply(text, document=document),), ctx.state)


SUB_COMMANDS: dict[str, Callable[[Context, str], Awaitable[Outcome]]] = {
    "": _help,
    "help": _help,
    "huongdan": _help,
    "trogiup": _help,
    "tim": search,
    "xem": _view,
    "them": _new,
    "xuat": _export,
    "linhvuc": _categories,
}
"""/faq's sub-commands, folded ("tìm" is "tim"); any other word starts a search."""

ENTRY_VERBS: dict[str, Callable[[Context, Entry], Awaitable[Outcome]]] = {
    "v": show_entry,
    "ans": _ask_answer,
    "alt": _ask_alternative,
    "off": _preview_off,
    "on": _preview_on,
    "h": _history,
    "rb": _rollback_preview,
}
"""The buttons under an entry, by verb (``handlers.buttons.AdminEntry``)."""
