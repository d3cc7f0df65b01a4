"""Changing one entry from the chat: its answer, a phrasing, on or off, a rollback, a new
entry step by step; and the appliers of those changes (called by ``confirm``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from bot.messages import Choice, Outcome, Reply
from handlers import texts_admin as t
from handlers.admin.flow import (
    CANCEL,
    Changed,
    audit_action,
    category_ref,
    enter,
    expired,
    flow_data,
    left,
    locked_entry,
    record_change,
    say,
    short_label,
    show_preview,
    stale,
)
from handlers.buttons import (
    AdminConfirm,
    AdminNewEntry,
)
from handlers.context import Context
from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.normalize import fold, nfc, words
from storage.repositories import inbox, kb_changes
from storage.repositories import kb as kb_repo
from storage.repositories import kb_admin as repo

MAX_LEGAL = 1000
MAX_CATEGORY = kbfile.MAX_TEXT["category"]
LIMITS = {"answer": kbfile.MAX_TEXT["answer"], "question": kbfile.MAX_TEXT["question"]}


async def apply_answer(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await locked_entry(ctx, data)
    await record_change(ctx, entry, replace(entry, answer=str(data["answer"])), "answer")
    return [Reply(t.DONE_ANSWER.format(id=entry.id))]


async def apply_alternative(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await locked_entry(ctx, data)
    text = str(data["text"])
    after = replace(entry, alternatives=(*entry.alternatives, text))
    await record_change(ctx, entry, after, "alternative")
    await _close_group(ctx, data, inbox.DONE, entry.id, "inbox.alternative")
    return [Reply(t.DONE_ALTERNATIVE.format(id=entry.id))]


async def apply_toggle(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await locked_entry(ctx, data)
    on = data["action"] == "enable"
    await record_change(ctx, entry, replace(entry, enabled=on), str(data["action"]))
    return [Reply((t.DONE_ENABLE if on else t.DONE_DISABLE).format(id=entry.id))]


async def apply_rollback(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    entry = await locked_entry(ctx, data)
    change = await repo.last_change(ctx.session, entry.id)
    if change is None or change.id != data.get("change"):
        raise Changed(t.CHANGED_SINCE_PREVIEW.format(id=entry.id))
    row = await repo.rollback(ctx.session, change, actor_hash=ctx.user_hash)
    await kb_repo.bump_revision(ctx.session)
    await audit_action(ctx, "kb.rollback", entry.id, history=row.id, undone=change.id)
    return [Reply(t.DONE_ROLLBACK.format(id=entry.id))]


async def apply_category(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    category = str(data["category"])
    on = data["action"] == "enable_category"
    entries = await repo.of_category(ctx.session, category, for_update=True)
    if repo.fingerprint(entries) != data.get("fp"):
        raise Changed(t.CHANGED_CATEGORY.format(category=category))
    changed = await kb_changes.set_category(
        ctx.session, category, entries, on, actor_hash=ctx.user_hash, role=ctx.actor.role
    )
    template = t.DONE_CATEGORY_ON if on else t.DONE_CATEGORY_OFF
    return [Reply(template.format(count=changed, category=category))]


async def apply_create(ctx: Context, data: dict[str, Any]) -> list[Reply]:
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
    await record_change(ctx, None, entry, "create")
    await _close_group(ctx, data, inbox.DONE, entry.id, "inbox.new_entry")
    return [Reply(t.DONE_NEW.format(id=entry.id))]


async def continue_flow(ctx: Context) -> Outcome:
    """Text typed during a step: the new answer, a phrasing, or the next field of a new entry."""
    data = flow_data(ctx)
    if not data or expired(data):
        # The flow is over: say so, then the message is answered as a question.
        if data.get("action") == "import":
            await repo.drop_pending(ctx.session, str(data.get("import", "")))
        return Outcome((Reply(t.FLOW_EXPIRED),), left(ctx), reroute=True)
    text = nfc(ctx.incoming.text.strip())
    handler = TEXT_STEPS.get(ctx.state.step or "", _unknown_step)
    return await handler(ctx, data, text)


async def _remind_confirm(ctx: Context, data: dict[str, Any], text: str) -> Outcome:
    confirm = Choice(t.CONFIRM, AdminConfirm(data["nonce"]).pack())
    return say(ctx, t.REMIND_CONFIRM, confirm, CANCEL)


async def _entry_step(ctx: Context, data: dict[str, Any], text: str) -> Outcome:
    entry = await repo.get(ctx.session, str(data.get("entry", "")))
    if entry is None:
        return say(ctx, t.NOT_FOUND.format(id=data.get("entry")), state=left(ctx))
    if ctx.state.step == "answer":
        return _answer_typed(ctx, entry, text)
    return _alternative_typed(ctx, entry, text)


async def _new_entry_step(ctx: Context, data: dict[str, Any], text: str) -> Outcome:
    return await _new_entry_typed(ctx, ctx.state.step or "", text, data)


async def _unknown_step(ctx: Context, data: dict[str, Any], text: str) -> Outcome:
    """The explicit fallback: a step this version does not know leaves the flow."""
    return say(ctx, t.CANCELLED, state=left(ctx))


def _too_long(text: str, limit: int) -> str | None:
    if not text:
        return t.EMPTY_INPUT
    if len(text) > limit:
        return t.TOO_LONG.format(length=len(text), limit=limit)
    return None


def _answer_typed(ctx: Context, entry: Entry, text: str) -> Outcome:
    problem = _too_long(text, LIMITS["answer"])
    if problem:
        return say(ctx, problem, CANCEL)
    if text == entry.answer.strip():
        return say(ctx, t.UNCHANGED, CANCEL)
    preview = t.PREVIEW_ANSWER.format(id=entry.id, before=entry.answer, after=text)
    return show_preview(
        ctx, preview, "answer", entry=entry.id, answer=text, fp=repo.fingerprint([entry])
    )


def _alternative_typed(ctx: Context, entry: Entry, text: str) -> Outcome:
    problem = _too_long(text, LIMITS["question"])
    if problem:
        return say(ctx, problem, CANCEL)
    return alternative_preview(ctx, entry, text)


def _same_words(text: str) -> tuple[str, ...]:
    """A phrasing's words without case, marks or punctuation: what duplicates share."""
    return tuple(fold(w) for w in words(text))


def alternative_preview(
    ctx: Context, entry: Entry, text: str, group: str | None = None, members: Sequence[str] = ()
) -> Outcome:
    if _same_words(text) in {_same_words(p) for p in entry.phrasings}:
        return say(ctx, t.ALREADY_PHRASING, CANCEL, state=enter(ctx, "alternative", entry=entry.id))
    preview = t.PREVIEW_ALTERNATIVE.format(
        id=entry.id,
        question=entry.question,
        before="; ".join(entry.alternatives) or t.NONE,
        after="; ".join((*entry.alternatives, text)),
    )
    payload: dict[str, Any] = {"entry": entry.id, "text": text, "fp": repo.fingerprint([entry])}
    if group:
        payload.update(group=group, members=list(members))
    return show_preview(ctx, preview, "alternative", **payload)


async def start_new_entry(
    ctx: Context, question: str = "", group: str | None = None, members: Sequence[str] = ()
) -> Outcome:
    """Step 1: the category (a button for each existing one, or a new name typed)."""
    cats = await repo.categories(ctx.session)
    choices = [
        Choice(short_label(c), AdminNewEntry("c", category_ref(c)).pack()) for c, _, _ in cats
    ]
    new: dict[str, Any] = {"question": question} if question else {}
    state = enter(ctx, "new_category", new=new, group=group, members=list(members))
    return say(ctx, t.ASK_CATEGORY, *choices, CANCEL, state=state)


def _after_category(ctx: Context, data: dict[str, Any], category: str) -> Outcome:
    new = {**data.get("new", {}), "category": category}
    data = {**data, "new": new}
    data.pop("at", None)
    if new.get("question"):
        prompt = t.ASK_QUESTION_PREFILLED.format(question=new["question"])
        keep = Choice(t.KEEP, AdminNewEntry("keep").pack())
        return say(ctx, prompt, keep, CANCEL, state=enter(ctx, "new_question", **data))
    return say(ctx, t.ASK_QUESTION, CANCEL, state=enter(ctx, "new_question", **data))


async def _new_entry_typed(ctx: Context, step: str, text: str, data: dict[str, Any]) -> Outcome:
    limits = {
        "new_category": MAX_CATEGORY,
        "new_question": LIMITS["question"],
        "new_answer": LIMITS["answer"],
        "new_legal": MAX_LEGAL,
    }
    if step not in limits:
        return say(ctx, t.CANCELLED, state=left(ctx))
    problem = _too_long(text, limits[step])
    if problem:
        return say(ctx, problem, CANCEL)
    data.pop("at", None)
    if step == "new_category":
        return _after_category(ctx, data, " ".join(text.split()))
    new = dict(data.get("new", {}))
    if step == "new_question":
        new["question"] = " ".join(text.split())
        return say(
            ctx, t.ASK_NEW_ANSWER, CANCEL, state=enter(ctx, "new_answer", **{**data, "new": new})
        )
    if step == "new_answer":
        new["answer"] = text
        skip = Choice(t.SKIP, AdminNewEntry("skip").pack())
        return say(
            ctx, t.ASK_LEGAL, skip, CANCEL, state=enter(ctx, "new_legal", **{**data, "new": new})
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
    return show_preview(ctx, text, "create", entry=entry_id, **payload)


async def new_entry_button(ctx: Context) -> Outcome:
    """Buttons of the new-entry steps: an existing category, keep the question, skip the basis."""
    pressed = AdminNewEntry.parse(ctx.incoming.choice)
    data = flow_data(ctx)
    step = ctx.state.step
    if not data or pressed is None:
        return await stale(ctx)
    if expired(data):
        return say(ctx, t.FLOW_EXPIRED, state=left(ctx))
    data.pop("at", None)
    if pressed.step == "c" and pressed.ref is not None and step == "new_category":
        cats = [c for c, _, _ in await repo.categories(ctx.session)]
        category = next((c for c in cats if category_ref(c) == pressed.ref), None)
        if category is None:
            return await stale(ctx)
        return _after_category(ctx, data, category)
    keep = pressed.step == "keep" and pressed.ref is None
    if keep and step == "new_question" and data.get("new", {}).get("question"):
        return say(ctx, t.ASK_NEW_ANSWER, CANCEL, state=enter(ctx, "new_answer", **data))
    if pressed.step == "skip" and pressed.ref is None and step == "new_legal":
        return await _new_entry_preview(ctx, {**data, "new": {**data["new"], "legal_basis": ""}})
    return await stale(ctx)


async def _close_group(
    ctx: Context, data: dict[str, Any], status: str, entry_id: str, action: str
) -> None:
    """Mark the inbox group a change came from (if any) as handled."""
    members = [str(m) for m in data.get("members") or ()]
    if not data.get("group") or not members:
        return
    await inbox.mark(ctx.session, members, status, actor_hash=ctx.user_hash, entry_id=entry_id)
    await audit_action(ctx, action, str(data["group"]), entry=entry_id, questions=len(members))


TEXT_STEPS: dict[str, Callable[[Context, dict[str, Any], str], Awaitable[Outcome]]] = {
    "confirm": _remind_confirm,
    "answer": _entry_step,
    "alternative": _entry_step,
    "new_category": _new_entry_step,
    "new_question": _new_entry_step,
    "new_answer": _new_entry_step,
    "new_legal": _new_entry_step,
}
"""The admin flow's steps that take free text; any other step leaves the flow."""
