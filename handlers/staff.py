"""/dangnhap: a one-time sign-in link to the staff web console, for staff and admins only.

The routing table limits the command to those roles, and the role is read afresh for every
message, so a revoked role gets the ordinary unknown-command reply. The link is sent only in a
private chat: in a group, everyone would see it.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.messages import Outcome, Reply
from handlers import texts_staff as t
from handlers.context import Context
from storage.repositories import audit, roles, staff_auth

LOGIN_PATH = "/staff/dangnhap"


def login_url(base: str, token: str) -> str:
    """The sign-in address of a link token (``base`` without a trailing slash)."""
    return f"{base.rstrip('/')}{LOGIN_PATH}?t={quote(token)}"


async def sign_in_link(ctx: Context) -> Outcome:
    """Sends a sign-in link valid 10 minutes and usable once."""
    chat = ctx.incoming.chat
    if chat.chat_id != chat.user_id:
        return Outcome((Reply(t.PRIVATE_ONLY),), ctx.state)
    await roles.remember_display_name(ctx.session, ctx.user_hash, ctx.incoming.display_name)
    token = await staff_auth.create_link(ctx.session, ctx.user_hash)
    await audit.record(ctx.session, ctx.user_hash, ctx.actor.role, "staff.link", chat.channel.value)
    url = login_url(ctx.services.staff_base_url, token)
    return Outcome((Reply(t.LINK.format(url=url)),), ctx.state)


def staff_help(role: str) -> str:
    """The commands of a role, shown under the citizen help by /help."""
    if role == roles.ADMIN:
        return f"{t.STAFF_HELP}\n\n{t.ADMIN_HELP}"
    if role == roles.STAFF:
        return t.STAFF_HELP
    return ""
