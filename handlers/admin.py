"""Admins maintain the knowledge base from the chat.

Every change follows the same path: the admin asks for it (a command, a button, a file), the
assistant shows a preview (before and after), and the change is applied only when the admin taps
"Xác nhận" on that very preview. The preview's confirmation carries a fresh nonce that must match
the one kept in the chat's state, and the state keeps a fingerprint of the entries as they were
previewed: a button from an older preview, a flow left for more than ``FLOW_TTL`` seconds, or
an entry changed meanwhile (by another admin, another process, a CLI import) is refused and
nothing changes. Applied changes are written with their history (one-step rollback), bump the
knowledge revision (every process rebuilds its index within seconds) and are appended to the
audit log, all inside the dispatcher's one transaction.

State lives under ``ChatState.data["admin"]`` (other flows' data is left alone); button values
are short (``handlers.buttons``: "ad:<area>:<verb>:<ref>") and refer to entries by a short
hash of their id.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process

from bot.messages import Attachment, ChatState, Choice, IncomingFile, Outcome, Reply
from handlers import catalog
from handlers import texts_admin as t
from handlers.buttons import (
    AdminCancel,
    AdminCategory,
    AdminConfirm,
    AdminEntry,
    AdminGroup,
    AdminImport,
    AdminNewEntry,
)
from handlers.common import stale_outcome
from handlers.context import VN_TZ, Context
from knowledge import filelimits, kbfile
from knowledge.entry import Entry
from knowledge.normalize import fold, nfc, words
from storage.models_admin import KbHistory
from storage.repositories import audit, inbox, kb_changes, roles
from storage.repositories import kb as kb_repo
from storage.repositories import kb_admin as repo
from storage.repositories.audit import aware

log = logging.getLogger(__name__)

FLOW = "admin"
FLOW_TTL = 3600.0  # seconds a started edit or a preview stays valid
MAX_RESULTS = 8
MAX_LISTED = 15  # entries named per section of an import preview
MAX_PROBLEMS_SHOWN = 30  # more are sent as an attached text file
MAX_INBOX_GROUPS = 10
MAX_VARIANTS = 5
MAX_UNPACKED_XLSX = filelimits.MAX_UNPACKED_XLSX  # the same limit as the command line
MAX_LABEL = 60
MAX_AUDITED_IDS = 200
LIMITS = {"answer": kbfile.MAX_TEXT["answer"], "question": kbfile.MAX_TEXT["question"]}
MAX_CATEGORY = kbfile.MAX_TEXT["category"]
MAX_LEGAL = 1000
EXPORT_TYPES = {
    "yaml": "application/yaml",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CANCEL = Choice(t.CANCEL, AdminCancel().pack())


# ------------------------------------------------------------------ state and small helpers


def _data(ctx: Context) -> dict[str, Any]:
    """This flow's data, or empty when the admin is not in it."""
    if ctx.state.flow != FLOW:
        return {}
    return dict(ctx.state.data.get("admin") or {})


def _expired(data: dict[str, Any]) -> bool:
    return time.time() - float(data.get("at", 0)) > FLOW_TTL


def _enter(ctx: Context, step: str, **data: Any) -> ChatState:
    """The state for a step of this flow; the clock restarts at every step."""
    return ctx.state.evolve(
        flow=FLOW, step=step, data={**ctx.state.data, "admin": {**data, "at": time.time()}}
    )


def _left(ctx: Context) -> ChatState:
    """The state after leaving this flow (other flows' data kept)."""
    data = {k: v for k, v in ctx.state.data.items() if k != "admin"}
    if ctx.state.flow == FLOW:
        return ctx.state.evolve(flow=None, step=None, data=data)
    return ctx.state.evolve(data=data)


def _say(ctx: Context, text: str, *choices: Choice, state: ChatState | None = None) -> Outcome:
    return Outcome((Reply(text, tuple(choices)),), ctx.state if state is None else state)


def _args(ctx: Context) -> str:
    parts = ctx.incoming.text.strip().split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _ref(entry_id: str) -> str:
    return catalog.short_hash(entry_id)


def _category_ref(category: str) -> str:
    return catalog.short_hash(category, 8)


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _local(moment: datetime) -> str:
    return aware(moment).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


async def _resolve(ctx: Context, ref: str) -> Entry | None:
    """The entry behind a button's short hash, enabled or not (None: stale button)."""
    entry_id = next((i for i in await repo.ids(ctx.session) if _ref(i) == ref), None)
    return await repo.get(ctx.session, entry_id) if entry_id else None


async def _stale(ctx: Context) -> Outcome:
    return stale_outcome(ctx)


async def _audit(ctx: Context, action: str, target: str, **details: Any) -> None:
    await audit.record(ctx.session, ctx.user_hash, ctx.actor.role, action, target, details)


# ------------------------------------------------------------------ commands


async def faq_command(ctx: Context) -> Outcome:
    """/faq with a sub-command: tìm, xem, thêm, lĩnh vực, xuất; anything else is a search."""
    args = _args(ctx)
    words = args.split(maxsplit=1)
    sub = fold(words[0]) if words else ""
    rest = words[1].strip() if len(words) > 1 else ""
    if not sub or sub in ("help", "huongdan", "trogiup"):
        return _say(ctx, t.HELP)
    if sub == "tim":
        return await search(ctx, rest)
    if sub == "xem":
        entry = await repo.get(ctx.session, rest.strip().lower())
        if entry is None:
            return _say(ctx, t.NOT_FOUND.format(id=rest))
        return await _show(ctx, entry)
    if sub == "them":
        return await start_new_entry(ctx)
    if sub == "xuat":
        return await export(ctx, fold(rest).strip() or "yaml")
    if sub == "linhvuc" or (sub == "linh" and fold(rest).startswith("vuc")):
        return await list_categories(ctx)
    return await search(ctx, args)


async def search(ctx: Context, query: str) -> Outcome:
    """Finds entries (enabled or not): the index's ranking first, then a fuzzy pass over all."""
    query = query.strip()
    if not query:
        return _say(ctx, t.ASK_KEYWORDS)
    entries = await kb_repo.all_entries(ctx.session)
    exact = next((e for e in entries if e.id == query.lower()), None)
    if exact is not None:
        return await _show(ctx, exact)
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
        return _say(ctx, t.NO_RESULTS.format(query=query))
    choices = [
        Choice(
            _label((t.DISABLED_MARK if not e.enabled else "") + e.question),
            AdminEntry("v", _ref(e.id)).pack(),
        )
        for e in hits
    ]
    return _say(ctx, t.RESULTS.format(query=query, count=len(hits)), *choices)


async def cancel(ctx: Context) -> Outcome:
    """/huy or the "Hủy" button: leaves the flow; nothing pending is applied."""
    if ctx.state.flow != FLOW:
        return _say(ctx, t.NOTHING_TO_CANCEL)
    data = _data(ctx)
    if data.get("action") == "import":
        await repo.drop_pending(ctx.session, str(data.get("import", "")))
    return _say(ctx, t.CANCELLED, state=_left(ctx))


# ------------------------------------------------------------------ reading an entry


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


async def _show(ctx: Context, entry: Entry) -> Outcome:
    ref = _ref(entry.id)
    text = _entry_text(entry)
    last = await repo.last_change(ctx.session, entry.id)
    if last is not None:
        action = t.ACTIONS.get(last.action, last.action)
        text += "\n" + t.LAST_CHANGE.format(at=_local(last.at), action=action)
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
    return _say(ctx, text, *choices)


async def entry_button(ctx: Context) -> Outcome:
    """Buttons under an entry: view, edit answer, add phrasing, disable/enable, history, undo."""
    pressed = AdminEntry.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    verb = pressed.verb
    entry = await _resolve(ctx, pressed.ref)
    if entry is None:
        return await _stale(ctx)
    if verb == "v":
        return await _show(ctx, entry)
    if verb == "ans":
        prompt = t.ASK_ANSWER.format(question=entry.question)
        return _say(ctx, prompt, CANCEL, state=_enter(ctx, "answer", entry=entry.id))
    if verb == "alt":
        prompt = t.ASK_ALTERNATIVE.format(question=entry.question)
        return _say(ctx, prompt, CANCEL, state=_enter(ctx, "alternative", entry=entry.id))
    if verb in ("off", "on"):
        template = t.PREVIEW_DISABLE if verb == "off" else t.PREVIEW_ENABLE
        if entry.enabled == (verb == "on"):
            return await _show(ctx, entry)  # already so: show the entry as it is
        action = "disable" if verb == "off" else "enable"
        text = template.format(id=entry.id, question=entry.question)
        return _preview(ctx, text, action, entry=entry.id, fp=repo.fingerprint([entry]))
    if verb == "h":
        return await _history(ctx, entry)
    if verb == "rb":
        return await _rollback_preview(ctx, entry)
    return await _stale(ctx)


async def _history(ctx: Context, entry: Entry) -> Outcome:
    rows = await repo.history(ctx.session, entry.id, 5)
    if not rows:
        return _say(ctx, t.HISTORY_EMPTY.format(id=entry.id))
    lines = [t.HISTORY_HEAD.format(id=entry.id)]
    names = await roles.display_names(ctx.session, [row.actor_hash for row in rows])
    for row in rows:
        action = t.ACTIONS.get(row.action, row.action)
        actor = names.get(row.actor_hash) or row.actor_hash[:8]
        lines.append(t.HISTORY_LINE.format(at=_local(row.at), action=action, actor=actor))
    return _say(ctx, "\n".join(lines), Choice(t.ROLLBACK, AdminEntry("rb", _ref(entry.id)).pack()))


def _show_value(name: str, value: Any) -> str:
    if name == "enabled":
        return t.ON if value else t.OFF
    if isinstance(value, list | tuple):
        return "; ".join(value) or t.NONE
    return str(value) if value else t.NONE


def _diff(before: Entry, after: Entry) -> list[str]:
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
        return _say(ctx, t.NO_HISTORY.format(id=entry.id))
    back = repo.restored(change)
    diff = t.ROLLBACK_DELETES if back is None else "\n".join(_diff(entry, back))
    text = t.PREVIEW_ROLLBACK.format(
        action=t.ACTIONS.get(change.action, change.action),
        at=_local(change.at),
        id=entry.id,
        diff=diff,
    )
    return _preview(
        ctx, text, "rollback", entry=entry.id, change=change.id, fp=repo.fingerprint([entry])
    )


# ------------------------------------------------------------------ previews and confirmations


def _preview(ctx: Context, text: str, action: str, /, **payload: Any) -> Outcome:
    """Show a change and wait for "Xác nhận" on this very message (a fresh nonce)."""
    nonce = secrets.token_hex(4)
    state = _enter(ctx, "confirm", nonce=nonce, action=action, **payload)
    return _say(ctx, text, Choice(t.CONFIRM, AdminConfirm(nonce).pack()), CANCEL, state=state)


class _Changed(Exception):
    """What was previewed no longer matches the database: refuse, change nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def confirm(ctx: Context) -> Outcome:
    """Applies the previewed change, if this is the current preview and nothing moved since."""
    pressed = AdminConfirm.parse(ctx.incoming.choice)
    data = _data(ctx)
    if (
        pressed is None
        or ctx.state.step != "confirm"
        or not data
        or data.get("nonce") != pressed.nonce
    ):
        return _say(ctx, t.STALE_CONFIRM)
    if _expired(data):
        if data.get("action") == "import":
            await repo.drop_pending(ctx.session, str(data.get("import", "")))
        return _say(ctx, t.FLOW_EXPIRED, state=_left(ctx))
    apply = _APPLIERS.get(str(data.get("action")))
    if apply is None:
        return _say(ctx, t.STALE_CONFIRM, state=_left(ctx))
    try:
        replies = await apply(ctx, data)
    except _Changed as exc:
        return _say(ctx, exc.message, state=_left(ctx))
    return Outcome(tuple(replies), _left(ctx))


async def _locked_entry(ctx: Context, data: dict[str, Any]) -> Entry:
    """The previewed entry, locked, exactly as it was previewed (else ``_Changed``)."""
    entry_id = str(data.get("entry", ""))
    entry = await repo.get(ctx.session, entry_id, for_update=True)
    if entry is None or repo.fingerprint([entry]) != data.get("fp"):
        raise _Changed(t.CHANGED_SINCE_PREVIEW.format(id=entry_id))
    return entry


async def _change(ctx: Context, before: Entry | None, after: Entry | None, action: str) -> int:
    row = await kb_changes.change(
        ctx.session, before, after, actor_hash=ctx.user_hash, role=ctx.actor.role, action=action
    )
    return row.id


async def _apply_answer(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await _locked_entry(ctx, data)
    await _change(ctx, entry, replace(entry, answer=str(data["answer"])), "answer")
    return [Reply(t.DONE_ANSWER.format(id=entry.id))]


async def _apply_alternative(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await _locked_entry(ctx, data)
    text = str(data["text"])
    after = replace(entry, alternatives=(*entry.alternatives, text))
    await _change(ctx, entry, after, "alternative")
    await _close_group(ctx, data, inbox.DONE, entry.id, "inbox.alternative")
    return [Reply(t.DONE_ALTERNATIVE.format(id=entry.id))]


async def _apply_toggle(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await _locked_entry(ctx, data)
    on = data["action"] == "enable"
    await _change(ctx, entry, replace(entry, enabled=on), str(data["action"]))
    return [Reply((t.DONE_ENABLE if on else t.DONE_DISABLE).format(id=entry.id))]


async def _apply_rollback(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await _locked_entry(ctx, data)
    change = await repo.last_change(ctx.session, entry.id)
    if change is None or change.id != data.get("change"):
        raise _Changed(t.CHANGED_SINCE_PREVIEW.format(id=entry.id))
    row = await repo.rollback(ctx.session, change, actor_hash=ctx.user_hash)
    await kb_repo.bump_revision(ctx.session)
    await _audit(ctx, "kb.rollback", entry.id, history=row.id, undone=change.id)
    return [Reply(t.DONE_ROLLBACK.format(id=entry.id))]


async def _apply_category(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    category = str(data["category"])
    on = data["action"] == "enable_category"
    entries = await repo.of_category(ctx.session, category, for_update=True)
    if repo.fingerprint(entries) != data.get("fp"):
        raise _Changed(t.CHANGED_CATEGORY.format(category=category))
    changed = await kb_changes.set_category(
        ctx.session, category, entries, on, actor_hash=ctx.user_hash, role=ctx.actor.role
    )
    template = t.DONE_CATEGORY_ON if on else t.DONE_CATEGORY_OFF
    return [Reply(template.format(count=changed, category=category))]


async def _apply_create(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    new = dict(data["new"])
    entry_id = str(data["entry"])
    if await repo.get(ctx.session, entry_id) is not None:  # taken meanwhile: pick the next free
        entry_id = await repo.new_id(ctx.session, new["category"], new["question"])
    entry = Entry(
        id=entry_id,
        category=new["category"],
        question=new["question"],
        answer=new["answer"],
        legal_basis=new.get("legal_basis", ""),
    )
    await _change(ctx, None, entry, "create")
    await _close_group(ctx, data, inbox.DONE, entry.id, "inbox.new_entry")
    return [Reply(t.DONE_NEW.format(id=entry.id))]


# ------------------------------------------------------------------ the flow's free text


async def continue_flow(ctx: Context) -> Outcome:
    """Text typed during a step: the new answer, a phrasing, or the next field of a new entry."""
    data = _data(ctx)
    if not data or _expired(data):
        # The flow is over: say so, then the message is answered as a question.
        if data.get("action") == "import":
            await repo.drop_pending(ctx.session, str(data.get("import", "")))
        return Outcome((Reply(t.FLOW_EXPIRED),), _left(ctx), reroute=True)
    text = nfc(ctx.incoming.text.strip())
    step = ctx.state.step or ""
    if step == "confirm":
        return _say(
            ctx, t.REMIND_CONFIRM, Choice(t.CONFIRM, AdminConfirm(data["nonce"]).pack()), CANCEL
        )
    if step in ("answer", "alternative"):
        entry = await repo.get(ctx.session, str(data.get("entry", "")))
        if entry is None:
            return _say(ctx, t.NOT_FOUND.format(id=data.get("entry")), state=_left(ctx))
        if step == "answer":
            return _answer_typed(ctx, entry, text)
        return _alternative_typed(ctx, entry, text)
    if step.startswith("new_"):
        return await _new_entry_typed(ctx, step, text, data)
    return _say(ctx, t.CANCELLED, state=_left(ctx))


def _too_long(text: str, limit: int) -> str | None:
    if not text:
        return t.EMPTY_INPUT
    if len(text) > limit:
        return t.TOO_LONG.format(length=len(text), limit=limit)
    return None


def _answer_typed(ctx: Context, entry: Entry, text: str) -> Outcome:
    problem = _too_long(text, LIMITS["answer"])
    if problem:
        return _say(ctx, problem, CANCEL)
    if text == entry.answer.strip():
        return _say(ctx, t.UNCHANGED, CANCEL)
    preview = t.PREVIEW_ANSWER.format(id=entry.id, before=entry.answer, after=text)
    return _preview(
        ctx, preview, "answer", entry=entry.id, answer=text, fp=repo.fingerprint([entry])
    )


def _alternative_typed(ctx: Context, entry: Entry, text: str) -> Outcome:
    problem = _too_long(text, LIMITS["question"])
    if problem:
        return _say(ctx, problem, CANCEL)
    return _alternative_preview(ctx, entry, text)


def _same_words(text: str) -> tuple[str, ...]:
    """A phrasing's words without case, marks or punctuation: what duplicates share."""
    return tuple(fold(w) for w in words(text))


def _alternative_preview(
    ctx: Context, entry: Entry, text: str, group: str | None = None, members: Sequence[str] = ()
) -> Outcome:
    if _same_words(text) in {_same_words(p) for p in entry.phrasings}:
        return _say(
            ctx, t.ALREADY_PHRASING, CANCEL, state=_enter(ctx, "alternative", entry=entry.id)
        )
    preview = t.PREVIEW_ALTERNATIVE.format(
        id=entry.id,
        question=entry.question,
        before="; ".join(entry.alternatives) or t.NONE,
        after="; ".join((*entry.alternatives, text)),
    )
    payload: dict[str, Any] = {"entry": entry.id, "text": text, "fp": repo.fingerprint([entry])}
    if group:
        payload.update(group=group, members=list(members))
    return _preview(ctx, preview, "alternative", **payload)


# ------------------------------------------------------------------ a new entry, step by step


async def start_new_entry(
    ctx: Context, question: str = "", group: str | None = None, members: Sequence[str] = ()
) -> Outcome:
    """Step 1: the category (a button for each existing one, or a new name typed)."""
    cats = await repo.categories(ctx.session)
    choices = [Choice(_label(c), AdminNewEntry("c", _category_ref(c)).pack()) for c, _, _ in cats]
    new: dict[str, Any] = {"question": question} if question else {}
    state = _enter(ctx, "new_category", new=new, group=group, members=list(members))
    return _say(ctx, t.ASK_CATEGORY, *choices, CANCEL, state=state)


def _after_category(ctx: Context, data: dict[str, Any], category: str) -> Outcome:
    new = {**data.get("new", {}), "category": category}
    data = {**data, "new": new}
    data.pop("at", None)
    if new.get("question"):
        prompt = t.ASK_QUESTION_PREFILLED.format(question=new["question"])
        keep = Choice(t.KEEP, AdminNewEntry("keep").pack())
        return _say(ctx, prompt, keep, CANCEL, state=_enter(ctx, "new_question", **data))
    return _say(ctx, t.ASK_QUESTION, CANCEL, state=_enter(ctx, "new_question", **data))


async def _new_entry_typed(ctx: Context, step: str, text: str, data: dict[str, Any]) -> Outcome:
    limits = {
        "new_category": MAX_CATEGORY,
        "new_question": LIMITS["question"],
        "new_answer": LIMITS["answer"],
        "new_legal": MAX_LEGAL,
    }
    if step not in limits:
        return _say(ctx, t.CANCELLED, state=_left(ctx))
    problem = _too_long(text, limits[step])
    if problem:
        return _say(ctx, problem, CANCEL)
    data.pop("at", None)
    if step == "new_category":
        return _after_category(ctx, data, " ".join(text.split()))
    new = dict(data.get("new", {}))
    if step == "new_question":
        new["question"] = " ".join(text.split())
        return _say(
            ctx, t.ASK_NEW_ANSWER, CANCEL, state=_enter(ctx, "new_answer", **{**data, "new": new})
        )
    if step == "new_answer":
        new["answer"] = text
        skip = Choice(t.SKIP, AdminNewEntry("skip").pack())
        return _say(
            ctx, t.ASK_LEGAL, skip, CANCEL, state=_enter(ctx, "new_legal", **{**data, "new": new})
        )
    new["legal_basis"] = text
    return await _new_entry_preview(ctx, {**data, "new": new})


async def _new_entry_preview(ctx: Context, data: dict[str, Any]) -> Outcome:
    new = data["new"]
    entry_id = await repo.new_id(ctx.session, new["category"], new["question"])
    fields = [f"{t.FIELD_LABELS['id']}: {entry_id}"]
    for name in ("category", "question", "answer", "legal_basis"):
        fields.append(f"{t.FIELD_LABELS[name]}: {new.get(name) or t.NONE}")
    text = t.PREVIEW_NEW.format(fields="\n".join(fields))
    payload = {k: v for k, v in data.items() if k in ("new", "group", "members")}
    return _preview(ctx, text, "create", entry=entry_id, **payload)


async def new_entry_button(ctx: Context) -> Outcome:
    """Buttons of the new-entry steps: an existing category, keep the question, skip the basis."""
    pressed = AdminNewEntry.parse(ctx.incoming.choice)
    data = _data(ctx)
    step = ctx.state.step
    if not data or pressed is None:
        return await _stale(ctx)
    if _expired(data):
        return _say(ctx, t.FLOW_EXPIRED, state=_left(ctx))
    data.pop("at", None)
    if pressed.step == "c" and pressed.ref is not None and step == "new_category":
        cats = [c for c, _, _ in await repo.categories(ctx.session)]
        category = next((c for c in cats if _category_ref(c) == pressed.ref), None)
        if category is None:
            return await _stale(ctx)
        return _after_category(ctx, data, category)
    keep = pressed.step == "keep" and pressed.ref is None
    if keep and step == "new_question" and data.get("new", {}).get("question"):
        return _say(ctx, t.ASK_NEW_ANSWER, CANCEL, state=_enter(ctx, "new_answer", **data))
    if pressed.step == "skip" and pressed.ref is None and step == "new_legal":
        return await _new_entry_preview(ctx, {**data, "new": {**data["new"], "legal_basis": ""}})
    return await _stale(ctx)


# ------------------------------------------------------------------ categories (kill switch)


async def list_categories(ctx: Context) -> Outcome:
    """/faq lĩnh vực: every category with how many of its entries are on."""
    cats = await repo.categories(ctx.session)
    if not cats:
        return _say(ctx, t.NO_ENTRIES)
    choices = [
        Choice(
            _label(t.CATEGORY_LINE.format(category=c, enabled=on, total=n)),
            AdminCategory("v", _category_ref(c)).pack(),
        )
        for c, n, on in cats
    ]
    return _say(ctx, t.CATEGORIES, *choices)


async def category_button(ctx: Context) -> Outcome:
    """A category: view it, or preview turning all its entries off or on."""
    pressed = AdminCategory.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    cats = {_category_ref(c): (c, n, on) for c, n, on in await repo.categories(ctx.session)}
    found = cats.get(pressed.ref)
    if found is None:
        return await _stale(ctx)
    category, total, enabled = found
    ref = pressed.ref
    if pressed.verb == "v":
        choices = []
        if enabled:
            choices.append(Choice(t.CATEGORY_OFF, AdminCategory("off", ref).pack()))
        if enabled < total:
            choices.append(Choice(t.CATEGORY_ON, AdminCategory("on", ref).pack()))
        text = t.CATEGORY_VIEW.format(category=category, enabled=enabled, total=total)
        return _say(ctx, text, *choices)
    on = pressed.verb == "on"
    entries = await repo.of_category(ctx.session, category)
    count = sum(1 for e in entries if e.enabled != on)
    if not count:
        text = t.CATEGORY_VIEW.format(category=category, enabled=enabled, total=total)
        return _say(ctx, text)
    template = t.PREVIEW_CATEGORY_ON if on else t.PREVIEW_CATEGORY_OFF
    return _preview(
        ctx,
        template.format(category=category, count=count),
        "enable_category" if on else "disable_category",
        category=category,
        fp=repo.fingerprint(entries),
    )


# ------------------------------------------------------------------ export


async def export(ctx: Context, fmt: str) -> Outcome:
    """/faq xuất: the whole base (disabled entries too) as a file; spreadsheet cells neutralised."""
    fmt = {"yml": "yaml", "excel": "xlsx"}.get(fmt, fmt)
    if fmt not in EXPORT_TYPES:
        return _say(ctx, t.UNKNOWN_FORMAT.format(fmt=fmt))
    entries = await kb_repo.all_entries(ctx.session)
    content = await asyncio.to_thread(kbfile.dump, entries, fmt)
    name = f"motcua-kb-{ctx.services.today():%Y%m%d}.{fmt}"
    await _audit(ctx, "kb.export", name, format=fmt, entries=len(entries))
    document = Attachment(name, content, EXPORT_TYPES[fmt])
    text = t.EXPORTED.format(count=len(entries), fmt=fmt.upper())
    return Outcome((Reply(text, document=document),), ctx.state)


# ------------------------------------------------------------------ imports


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
    from knowledge.register import check_refs
    from storage.repositories import legal

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
        return _say(ctx, parsed.refusal)
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
        return _say(ctx, t.FILE_NO_CHANGE.format(name=name, count=len(entries)))
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
        lines += _listed(plan.added, lambda i: f"{i}: {_label(incoming[i].question)}")
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
        lines += _listed(plan.removed, lambda i: f"{i}: {_label(current[i].question)}")
    if plan.unchanged:
        lines.append(t.IMPORT_UNCHANGED.format(count=plan.unchanged))
    kept = len(set(current) - set(incoming))
    if kept and not replace_all:
        lines.append(t.IMPORT_KEPT.format(count=kept))
    nonce = secrets.token_hex(4)
    fp = repo.fingerprint(repo.touched(current, plan))
    state = _enter(
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
    return _say(ctx, "\n".join(lines), *choices, state=state)


async def import_button(ctx: Context) -> Outcome:
    """Import buttons: preview replacing the whole base, or preview undoing an applied import."""
    pressed = AdminImport.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    if pressed.verb == "rep":
        data = _data(ctx)
        if ctx.state.step != "confirm" or data.get("nonce") != pressed.ref:
            return _say(ctx, t.STALE_CONFIRM)
        if _expired(data) or data.get("action") != "import":
            return _say(ctx, t.FLOW_EXPIRED, state=_left(ctx))
        row = await repo.pending(ctx.session, str(data["import"]), ctx.user_hash)
        if row is None:
            return _say(ctx, t.IMPORT_EXPIRED, state=_left(ctx))
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


async def _apply_import(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    row = await repo.pending(ctx.session, str(data.get("import", "")), ctx.user_hash)
    if row is None:
        raise _Changed(t.IMPORT_EXPIRED)
    entries = repo.pending_entries(row)
    current = {e.id: e for e in await kb_repo.all_entries(ctx.session)}
    replace_all = bool(data.get("replace"))
    plan = kb_repo.plan_import(list(current.values()), entries, replace=replace_all)
    if repo.fingerprint(repo.touched(current, plan)) != data.get("fp"):
        await repo.drop_pending(ctx.session, row.nonce)
        raise _Changed(t.CHANGED_IMPORT)
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
        raise _Changed(t.IMPORT_FAILED) from None
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
        return await _stale(ctx)
    if later:
        ids = ", ".join(later[:MAX_LISTED])
        return _say(ctx, t.UNDO_IMPORT_BLOCKED.format(count=len(later), ids=ids))
    name = await _import_name(ctx, batch)
    current = [await repo.get(ctx.session, c.entry_id) for c in changes]
    text = t.PREVIEW_UNDO_IMPORT.format(name=name, count=len(changes))
    return _preview(ctx, text, "undo_import", batch=batch, fp=repo.fingerprint(current))


async def _import_name(ctx: Context, batch: str) -> str:
    """The file name of an applied import, from its audit row (the pending row is gone)."""
    for row in reversed(await audit.query(ctx.session, action="kb.import")):
        if (row.details or {}).get("batch") == batch:
            return row.target
    return batch


async def _apply_undo_import(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    batch = str(data["batch"])
    changes, later = await _undo_plan(ctx, batch)
    current = [await repo.get(ctx.session, c.entry_id, for_update=True) for c in changes]
    if later or not changes or repo.fingerprint(current) != data.get("fp"):
        raise _Changed(t.CHANGED_IMPORT)
    undo = f"undo-{batch}"[:32]
    for change in changes:
        await repo.rollback(ctx.session, change, actor_hash=ctx.user_hash, batch=undo)
    await kb_repo.bump_revision(ctx.session)
    await _audit(ctx, "kb.rollback_import", batch, entries=len(changes))
    return [Reply(t.DONE_UNDO_IMPORT.format(count=len(changes)))]


# ------------------------------------------------------------------ the unanswered-questions inbox


async def show_inbox(ctx: Context) -> Outcome:
    """/chuatraloi: open groups of unanswered questions, most asked first."""
    groups = await inbox.open_groups(ctx.session)
    if not groups:
        return _say(ctx, t.INBOX_EMPTY)
    shown = groups[:MAX_INBOX_GROUPS]
    lines = [t.INBOX_HEAD.format(groups=len(groups), questions=sum(g.count for g in groups))]
    choices = []
    for n, g in enumerate(shown, start=1):
        text = _label(g.representative)
        lines.append(t.INBOX_LINE.format(n=n, text=text, count=g.count, at=_local(g.newest)))
        label = _label(t.INBOX_BUTTON.format(n=n, text=g.representative, count=g.count))
        choices.append(Choice(label, AdminGroup("v", g.key).pack()))
    return _say(ctx, "\n".join(lines), *choices)


async def group_button(ctx: Context) -> Outcome:
    """A group: view it with the 3 nearest entries, make it a phrasing or a new entry, ignore it."""
    pressed = AdminGroup.parse(ctx.incoming.choice)
    if pressed is None:
        return await _stale(ctx)
    verb = pressed.verb
    g = inbox.find(await inbox.open_groups(ctx.session), pressed.key)
    if g is None:
        return _say(ctx, t.GROUP_GONE)
    if verb == "v":
        return _group_view(ctx, g)
    if verb == "a" and pressed.ref is not None:
        entry = await _resolve(ctx, pressed.ref)
        if entry is None:
            return await _stale(ctx)
        return _alternative_preview(ctx, entry, g.representative, g.key, g.members)
    if verb == "n":
        return await start_new_entry(ctx, g.representative, g.key, g.members)
    if verb == "i":
        await inbox.mark(ctx.session, g.members, inbox.IGNORED, actor_hash=ctx.user_hash)
        await _audit(ctx, "inbox.ignore", g.key, text=g.representative, count=g.count)
        return _say(ctx, t.GROUP_IGNORED.format(text=g.representative, count=g.count))
    return await _stale(ctx)


def _group_view(ctx: Context, g: inbox.Group) -> Outcome:
    variants = "\n".join(
        f"• {g.samples[norm]} ({n})" for norm, n in g.variants.most_common(MAX_VARIANTS)
    )
    text = t.GROUP_VIEW.format(
        text=g.representative,
        count=g.count,
        fallback=g.sources[inbox.FALLBACK],
        unhelpful=g.sources[inbox.NOT_HELPFUL],
        at=_local(g.newest),
        variants=variants,
    )
    nearest = [m.entry for m in ctx.index.search(g.representative, k=3).matches[:3]]
    choices = [
        Choice(
            _label(t.GROUP_AS_ALTERNATIVE.format(question=e.question)),
            AdminGroup("a", g.key, _ref(e.id)).pack(),
        )
        for e in nearest
    ]
    choices += [
        Choice(t.GROUP_NEW_ENTRY, AdminGroup("n", g.key).pack()),
        Choice(t.GROUP_IGNORE, AdminGroup("i", g.key).pack()),
    ]
    return Outcome((Reply(text), Reply(t.GROUP_NEAREST, tuple(choices))), ctx.state)


async def _close_group(
    ctx: Context, data: dict[str, Any], status: str, entry_id: str, action: str
) -> None:
    """Mark the inbox group a change came from (if any) as handled."""
    members = [str(m) for m in data.get("members") or ()]
    if not data.get("group") or not members:
        return
    await inbox.mark(ctx.session, members, status, actor_hash=ctx.user_hash, entry_id=entry_id)
    await _audit(ctx, action, str(data["group"]), entry=entry_id, questions=len(members))


_APPLIERS: dict[str, Callable[[Context, dict[str, Any]], Awaitable[list[Reply]]]] = {
    "answer": _apply_answer,
    "alternative": _apply_alternative,
    "disable": _apply_toggle,
    "enable": _apply_toggle,
    "rollback": _apply_rollback,
    "disable_category": _apply_category,
    "enable_category": _apply_category,
    "create": _apply_create,
    "import": _apply_import,
    "undo_import": _apply_undo_import,
}
