"""``motcua staff link CHANNEL:ID`` and ``motcua staff logout CHANNEL:ID``.

A link for the first admin or for operators, printed on the terminal of someone who already
controls the server; the person must hold a role, as for /dangnhap.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.messages import Channel
from handlers.staff import login_url
from storage.repositories import audit, roles, staff_auth


async def staff_command(args: argparse.Namespace, app: Any) -> int:
    """Run a ``staff`` sub-command on a built ``App``; returns the exit code."""
    channel, _, user_id = args.user.partition(":")
    if channel not in {c.value for c in Channel} or not user_id:
        print(
            f"Expected CHANNEL:USER_ID (e.g. telegram:123456789), not {args.user!r}.",
            file=sys.stderr,
        )
        return 2
    user_hash = app.dispatcher.user_hash_of(Channel(channel), user_id)
    async with app.sessions() as session, session.begin():
        actor = await roles.actor_of(session, user_hash)
        if args.staff_command == "logout":
            ended = await staff_auth.end_sessions_of(session, user_hash)
            await audit.record(
                session, "cli", "operator", "staff.logout_all", channel, {"sessions": ended}
            )
            print(f"{ended} session(s) of {args.user} ended.")
            return 0
        if not actor.is_staff:
            print(f"{args.user} is neither staff nor admin: no link.", file=sys.stderr)
            return 1
        token = await staff_auth.create_link(session, user_hash)
        await audit.record(session, user_hash, actor.role, "staff.link", "cli")
    print(login_url(app.settings.staff_base_url, token))
    print("Valid for 10 minutes, usable once.", file=sys.stderr)
    return 0
