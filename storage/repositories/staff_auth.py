"""Sign-in links and sessions of the staff web console.

A link token and a session token are 32 random bytes (URL-safe base64) handed to the person;
only their SHA-256 is stored. A link is valid ``LINK_TTL`` and spent by its first use (an
``UPDATE ... WHERE used_at IS NULL``, so two workers racing on one link open one session). A
session expires after ``idle`` without use; nothing but the database knows it, so any worker
serves any request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import utcnow
from storage.models.staff import StaffLoginLink, StaffSession
from storage.repositories.audit import aware

LINK_TTL = timedelta(minutes=10)
#: ``last_seen_at`` is written at most this often, so that reading pages does not write a row
#: on every request.
TOUCH_EVERY = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link(session: AsyncSession, user_hash: str, now: datetime | None = None) -> str:
    """A new one-time link token for ``user_hash`` (the caller checks the role)."""
    now = now or utcnow()
    await session.execute(delete(StaffLoginLink).where(StaffLoginLink.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        StaffLoginLink(
            token_hash=token_hash(token),
            user_hash=user_hash,
            created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    await session.flush()
    return token


async def redeem_link(session: AsyncSession, token: str, now: datetime | None = None) -> str | None:
    """Spend a link: the user hash it was made for, or None (unknown, expired or used)."""
    now = now or utcnow()
    h = token_hash(token)
    row = await session.get(StaffLoginLink, h)
    if row is None or row.used_at is not None or aware(row.expires_at) <= now:
        return None
    spent = await session.execute(
        update(StaffLoginLink)
        .where(StaffLoginLink.token_hash == h, StaffLoginLink.used_at.is_(None))
        .values(used_at=now)
    )
    if not getattr(spent, "rowcount", 0):
        return None
    return row.user_hash


async def create_session(
    session: AsyncSession, user_hash: str, now: datetime | None = None
) -> tuple[str, str]:
    """A new session: (the cookie's token, the CSRF token of its forms)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            user_hash=user_hash,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()
    return token, csrf


async def find_session(
    session: AsyncSession, token: str, idle: timedelta, now: datetime | None = None
) -> StaffSession | None:
    """The live session of a cookie token (its use recorded), or None; an idle one is ended."""
    now = now or utcnow()
    row = await session.get(StaffSession, token_hash(token))
    if row is None:
        return None
    seen = aware(row.last_seen_at)
    if seen + idle <= now:
        await session.delete(row)
        return None
    if now - seen >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


async def end_sessions_of(session: AsyncSession, user_hash: str) -> int:
    """Sign a person out everywhere; also spends their unused links. Returns sessions ended."""
    done = await session.execute(delete(StaffSession).where(StaffSession.user_hash == user_hash))
    await session.execute(delete(StaffLoginLink).where(StaffLoginLink.user_hash == user_hash))
    return int(getattr(done, "rowcount", 0) or 0)


async def session_counts(session: AsyncSession, idle: timedelta) -> dict[str, int]:
    """Live sessions per user hash (for the users page)."""
    since = utcnow() - idle
    rows = await session.scalars(
        select(StaffSession.user_hash).where(StaffSession.last_seen_at > since)
    )
    out: dict[str, int] = {}
    for h in rows:
        out[h] = out.get(h, 0) + 1
    return out


async def purge(session: AsyncSession, idle: timedelta, now: datetime | None = None) -> int:
    """Delete idle sessions and expired links."""
    now = now or utcnow()
    done = await session.execute(
        delete(StaffSession).where(StaffSession.last_seen_at <= now - idle)
    )
    await session.execute(delete(StaffLoginLink).where(StaffLoginLink.expires_at < now))
    return int(getattr(done, "rowcount", 0) or 0)
