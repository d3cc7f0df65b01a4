"""Applying a previewed change ("Xác nhận"), and leaving the flow (/huy)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.messages import Outcome, Reply
from handlers import texts_admin as t
from handlers.admin.edit import (
    apply_alternative,
    apply_answer,
    apply_category,
    apply_create,
    apply_rollback,
    apply_toggle,
)
from handlers.admin.flow import Changed, expired, flow_data, in_flow, left, say
from handlers.admin.imports import apply_import, apply_undo_import
from handlers.buttons import (
    AdminConfirm,
)
from handlers.context import Context
from storage.repositories import kb_admin as repo


async def cancel(ctx: Context) -> Outcome:
    """/huy or the "Hủy" button: leaves the flow; nothing pending is applied."""
    if not in_flow(ctx):
        return say(ctx, t.NOTHING_TO_CANCEL)
    data = flow_data(ctx)
    if data.get("action") == "import":
        await repo.drop_pending(ctx.session, str(data.get("import", "")))
    return say(ctx, t.CANCELLED, state=left(ctx))


async def confirm(ctx: Context) -> Outcome:
    """Applies the previewed change, if this is the current preview and nothing moved since."""
    pressed = AdminConfirm.parse(ctx.incoming.choice)
    data = flow_data(ctx)
    if (
        pressed is None
        or ctx.state.step != "confirm"
        or not data
        or data.get("nonce") != pressed.nonce
    ):
        return say(ctx, t.STALE_CONFIRM)
    if expired(data):
        if data.get("action") == "import":
            await repo.drop_pending(ctx.session, str(data.get("import", "")))
        return say(ctx, t.FLOW_EXPIRED, state=left(ctx))
    apply = APPLIERS.get(str(data.get("action")))
    if apply is None:
        return say(ctx, t.STALE_CONFIRM, state=left(ctx))
    try:
        replies = await apply(ctx, data)
    except Changed as exc:
        return say(ctx, exc.message, state=left(ctx))
    return Outcome(tuple(replies), left(ctx))


APPLIERS: dict[str, Callable[[Context, dict[str, Any]], Awaitable[list[Reply]]]] = {
    "answer": apply_answer,
    "alternative": apply_alternative,
    "disable": apply_toggle,
    "enable": apply_toggle,
    "rollback": apply_rollback,
    "disable_category": apply_category,
    "enable_category": apply_category,
    "create": apply_create,
    "import": apply_import,
    "undo_import": apply_undo_import,
}
