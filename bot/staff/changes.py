"""Knowledge-base changes made in the console, with the signed-in user as their actor.

The console's pages (the knowledge base, the unanswered-questions inbox) change entries and
close inbox groups the same way: through ``kb_changes`` and ``inbox`` with the user's hash and
role, and ``via: web`` in the audit details.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.staff.auth import StaffUser
from knowledge.entry import Entry
from storage.repositories import audit, inbox, kb_changes


async def change(
    session: AsyncSession,
    user: StaffUser,
    before: Entry | None,
    after: Entry | None,
    action: str,
    **details: Any,
) -> None:
    """One entry changed by ``user`` (history, revision bump and audit row, as in chat)."""
    await kb_changes.change(
        session,
        before,
        after,
        actor_hash=user.user_hash,
        role=user.role,
        action=action,
        via="web",
        **details,
    )


async def close_group(
    session: AsyncSession, user: StaffUser, key: str, entry_id: str, action: str
) -> None:
    """Mark an inbox group handled by a change to ``entry_id`` (if it is still open)."""
    group = inbox.find(await inbox.open_groups(session), key)
    if group is None:
        return
    await inbox.mark(
        session, group.members, inbox.DONE, actor_hash=user.user_hash, entry_id=entry_id
    )
    await audit.record(
        session,
        user.user_hash,
        user.role,
        action,
        key,
        {"entry": entry_id, "questions": len(group.members), "via": "web"},
    )
