"""Knowledge-base changes as one operation each: the entry with its history row, the revision
bump (every process rebuilds its index) and the audit row, in the caller's transaction.

The chat commands (``handlers.admin``) and the staff web console (``bot.staff``) both change
the base through these functions, so the two can never drift apart in what they record.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.entry import Entry
from storage.models.admin import KbHistory
from storage.repositories import audit
from storage.repositories import kb as kb_repo
from storage.repositories import kb_admin as repo

MAX_AUDITED_IDS = 200


async def change(
    session: AsyncSession,
    before: Entry | None,
    after: Entry | None,
    *,
    actor_hash: str,
    role: str,
    action: str,
    **details: Any,
) -> KbHistory:
    """One entry changed (``action``: answer, alternative, enable, disable, create, edit,
    restore...), with its history, the revision bump and the audit row ``kb.<action>``."""
    row = await repo.write(session, before, after, actor_hash=actor_hash, action=action)
    await kb_repo.bump_revision(session)
    await audit.record(
        session, actor_hash, role, f"kb.{action}", row.entry_id, {"history": row.id, **details}
    )
    return row


async def set_category(
    session: AsyncSession,
    category: str,
    entries: Sequence[Entry],
    on: bool,
    *,
    actor_hash: str,
    role: str,
) -> int:
    """Turn every entry of a category on or off (the kill switch); returns how many changed."""
    action = "enable_category" if on else "disable_category"
    batch = secrets.token_hex(6)
    changed = [e for e in entries if e.enabled != on]
    for e in changed:
        await repo.write(
            session, e, replace(e, enabled=on), actor_hash=actor_hash, action=action, batch=batch
        )
    await kb_repo.bump_revision(session)
    await audit.record(
        session,
        actor_hash,
        role,
        f"kb.{action}",
        category,
        {"entries": len(changed), "batch": batch},
    )
    return len(changed)


async def record_import(
    session: AsyncSession,
    *,
    actor_hash: str,
    role: str,
    file_name: str,
    fmt: str,
    replace_all: bool,
    batch: str,
    plan: kb_repo.ImportPlan,
) -> None:
    """The audit row of an applied import (its changes are in ``kb_history`` under ``batch``)."""
    await audit.record(
        session,
        actor_hash,
        role,
        "kb.import",
        file_name,
        {
            "format": fmt,
            "replace": replace_all,
            "batch": batch,
            "counts": {
                "added": len(plan.added),
                "changed": len(plan.changed),
                "removed": len(plan.removed),
            },
            # The ids, capped: every change is in kb_history under this batch anyway.
            "added": list(plan.added[:MAX_AUDITED_IDS]),
            "changed": list(plan.changed[:MAX_AUDITED_IDS]),
            "removed": list(plan.removed[:MAX_AUDITED_IDS]),
        },
    )
