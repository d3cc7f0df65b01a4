"""The admin flow's state, its clock and the helpers every admin module shares.

State lives under ``ChatState.data["admin"]`` (other flows' data is left alone); a step is
entered with ``enter`` (the clock restarts) and left with ``left``. A change is shown by
``show_preview`` with a fresh nonce, and applied only by ``handlers.admin.confirm``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.flowstate import FlowState
from bot.messages import ChatState, Choice, Outcome, Reply
from handlers import catalog
from handlers import texts_admin as t
from handlers.buttons import (
    AdminCancel,
    AdminConfirm,
)
from handlers.common import stale_outcome
from handlers.context import VN_TZ, Context
from knowledge.entry import Entry
from storage.repositories import audit, kb_changes
from storage.repositories import kb_admin as repo
from storage.repositories.audit import aware

FLOW = "admin"
FLOW_TTL = 3600.0  # seconds a started edit or a preview stays valid
MAX_LABEL = 60
CANCEL = Choice(t.CANCEL, AdminCancel().pack())


@dataclass(frozen=True)
class AdminFlow(FlowState, tag=FLOW):
    """An admin's change under way: the step, and the step's data with its clock ("at"):
    what was previewed (action, nonce, entry, fingerprint...) or the new entry's fields."""

    step: str
    data: dict[str, Any] = field(default_factory=dict)


def in_flow(ctx: Context) -> bool:
    return isinstance(ctx.state.flow, AdminFlow)


def flow_data(ctx: Context) -> dict[str, Any]:
    """This flow's data (a copy), or empty when the admin is not in it."""
    flow = ctx.state.flow
    return dict(flow.data) if isinstance(flow, AdminFlow) else {}


def expired(data: dict[str, Any]) -> bool:
    return time.time() - float(data.get("at", 0)) > FLOW_TTL


def enter(ctx: Context, step: str, **data: Any) -> ChatState:
    """The state for a step of this flow; the clock restarts at every step."""
    return ctx.state.evolve(flow=AdminFlow(step, {**data, "at": time.time()}))


def left(ctx: Context) -> ChatState:
    """The state after leaving this flow (what outlives flows kept)."""
    return ctx.state.evolve(flow=None) if in_flow(ctx) else ctx.state


def say(ctx: Context, text: str, *choices: Choice, state: ChatState | None = None) -> Outcome:
    return Outcome((Reply(text, tuple(choices)),), ctx.state if state is None else state)


def args_of(ctx: Context) -> str:
    parts = ctx.incoming.text.strip().split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def ref_of(entry_id: str) -> str:
    return catalog.short_hash(entry_id)


def category_ref(category: str) -> str:
    return catalog.short_hash(category, 8)


def short_label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def local_time(moment: datetime) -> str:
    return aware(moment).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


async def resolve_ref(ctx: Context, ref: str) -> Entry | None:
    """The entry behind a button's short hash, enabled or not (None: stale button)."""
    entry_id = next((i for i in await repo.ids(ctx.session) if ref_of(i) == ref), None)
    return await repo.get(ctx.session, entry_id) if entry_id else None


async def stale(ctx: Context) -> Outcome:
    return stale_outcome(ctx)


async def audit_action(ctx: Context, action: str, target: str, **details: Any) -> None:
    await audit.record(ctx.session, ctx.user_hash, ctx.actor.role, action, target, details)


def show_preview(ctx: Context, text: str, action: str, /, **payload: Any) -> Outcome:
    """Show a change and wait for "Xác nhận" on this very message (a fresh nonce)."""
    nonce = secrets.token_hex(4)
    state = enter(ctx, "confirm", nonce=nonce, action=action, **payload)
    return say(ctx, text, Choice(t.CONFIRM, AdminConfirm(nonce).pack()), CANCEL, state=state)


class Changed(Exception):
    """What was previewed no longer matches the database: refuse, change nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def locked_entry(ctx: Context, data: dict[str, Any]) -> Entry:
    """The previewed entry, locked, exactly as it was previewed (else ``Changed``)."""
    entry_id = str(data.get("entry", ""))
    entry = await repo.get(ctx.session, entry_id, for_update=True)
    if entry is None or repo.fingerprint([entry]) != data.get("fp"):
        raise Changed(t.CHANGED_SINCE_PREVIEW.format(id=entry_id))
    return entry


async def record_change(
    ctx: Context, before: Entry | None, after: Entry | None, action: str
) -> int:
    row = await kb_changes.change(
        ctx.session, before, after, actor_hash=ctx.user_hash, role=ctx.actor.role, action=action
    )
    return row.id
