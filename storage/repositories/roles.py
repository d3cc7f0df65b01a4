"""Staff and admin roles; everyone else is a citizen."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, RoleGrant, utcnow
from storage.repositories._core import core_connection

CITIZEN, STAFF, ADMIN = "citizen", "staff", "admin"
ROLES = (STAFF, ADMIN)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sent a message: the role, and for staff the agency subtree they may see."""

    role: str = CITIZEN
    agency_id: int | None = None
    agency_path: str | None = None
    alerts: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in (STAFF, ADMIN)

    def sees(self, agency: Agency | None) -> bool:
        """Admins see the whole city; staff their agency and everything under it."""
        if self.role == ADMIN:
            return True
        if self.role != STAFF or agency is None or self.agency_path is None:
            return False
        return agency.path.startswith(self.agency_path)


async def actor_of(session: AsyncSession, user_hash: str) -> Actor:
    conn = await core_connection(session)  # one Core select a message: no ORM objects
    row = (await conn.execute(_ACTOR, {"user_hash": user_hash})).first()
    if row is None:
        return Actor()
    return Actor(row.role, row.agency_id, row.path, row.alerts)


_ACTOR = (
    select(RoleGrant.role, RoleGrant.agency_id, RoleGrant.alerts, Agency.path)
    .outerjoin(Agency, Agency.id == RoleGrant.agency_id)
    .where(RoleGrant.user_hash == bindparam("user_hash"))
)


async def grant(
    session: AsyncSession,
    *,
    user_hash: str,
    channel: str,
    user_id: str,
    role: str,
    agency: Agency | None,
    alerts: bool = False,
    display_name: str | None = None,
) -> None:
    """Give ``role`` (over ``agency``'s subtree for staff); ``display_name`` None keeps the
    name already known."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role == STAFF and agency is None:
        raise ValueError("staff need an agency")
    existing = await session.get(RoleGrant, user_hash)
    if existing is None:
        session.add(
            RoleGrant(
                user_hash=user_hash,
                channel=channel,
                user_id=user_id,
                role=role,
                agency_id=agency.id if agency else None,
                alerts=alerts,
                granted_at=utcnow(),
                display_name=(display_name or "")[:120],
            )
        )
    else:
        existing.role = role
        existing.agency_id = agency.id if agency else None
        existing.alerts = alerts or existing.alerts
        existing.granted_at = utcnow()
        if display_name is not None:
            existing.display_name = display_name[:120]
    await session.flush()


async def revoke(session: AsyncSession, user_hash: str) -> bool:
    result = await session.execute(delete(RoleGrant).where(RoleGrant.user_hash == user_hash))
    return bool(getattr(result, "rowcount", 0))


async def set_alerts(session: AsyncSession, user_hash: str, on: bool) -> bool:
    row = await session.get(RoleGrant, user_hash)
    if row is None:
        return False
    row.alerts = on
    return True


async def alert_recipients(session: AsyncSession, agency: Agency | None) -> list[RoleGrant]:
    """Staff who asked for alerts and may see this agency, and admins who asked for them."""
    rows = await session.execute(
        select(RoleGrant, Agency)
        .outerjoin(Agency, Agency.id == RoleGrant.agency_id)
        .where(RoleGrant.alerts.is_(True))
    )
    out = []
    for grant_row, staff_agency in rows:
        if grant_row.role == ADMIN or (
            agency is not None
            and staff_agency is not None
            and agency.path.startswith(staff_agency.path)
        ):
            out.append(grant_row)
    return out


async def all_grants(session: AsyncSession) -> list[tuple[RoleGrant, Agency | None]]:
    rows = await session.execute(
        select(RoleGrant, Agency).outerjoin(Agency, Agency.id == RoleGrant.agency_id)
    )
    return [(r[0], r[1]) for r in rows]


async def display_names(session: AsyncSession, hashes: list[str]) -> dict[str, str]:
    """The display name of each user hash that holds (or held, while its row lasts) a role."""
    if not hashes:
        return {}
    rows = await session.execute(
        select(RoleGrant.user_hash, RoleGrant.display_name).where(
            RoleGrant.user_hash.in_(set(hashes))
        )
    )
    return {h: n for h, n in rows if n}


async def remember_display_name(session: AsyncSession, user_hash: str, name: str) -> None:
    """Keep the platform's display name when none was given at the grant."""
    row = await session.get(RoleGrant, user_hash)
    if row is not None and not row.display_name and name.strip():
        row.display_name = " ".join(name.split())[:120]
