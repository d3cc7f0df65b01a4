"""API keys of the one-stop system: only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, ApiKey, utcnow

PREFIX = "mc_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create(session: AsyncSession, *, name: str, agency: Agency) -> tuple[ApiKey, str]:
    """A new key for an agency subtree; the clear key is returned once and never stored."""
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, key_hash=key_hash(key), agency_id=agency.id)
    session.add(row)
    await session.flush()
    return row, key


async def resolve(session: AsyncSession, key: str) -> tuple[ApiKey, Agency] | None:
    """The active key and its agency, or None for an unknown or revoked key."""
    row = (
        await session.execute(
            select(ApiKey, Agency)
            .join(Agency, Agency.id == ApiKey.agency_id)
            .where(ApiKey.key_hash == key_hash(key), ApiKey.revoked_at.is_(None))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def revoke(session: AsyncSession, key_id: int) -> bool:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


async def all_keys(session: AsyncSession) -> list[tuple[ApiKey, Agency]]:
    rows = await session.execute(
        select(ApiKey, Agency).join(Agency, Agency.id == ApiKey.agency_id).order_by(ApiKey.id)
    )
    return [(r[0], r[1]) for r in rows]
