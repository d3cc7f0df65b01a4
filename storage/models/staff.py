"""Tables of the staff web console: one-time sign-in links and signed-in sessions.

Kept apart from ``storage.models`` like the other feature tables; created by migration 0013.
Only hashes of the link and session tokens are stored, so a copy of the database opens no
session. Importing this module registers the models on ``Base.metadata``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base, utcnow


class StaffLoginLink(Base):
    """A one-time sign-in link: valid until ``expires_at``, spent when ``used_at`` is set."""

    __tablename__ = "staff_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class StaffSession(Base):
    """A signed-in browser: held in the database so that every worker knows it.

    ``last_seen_at`` moves on use; a session unused for the idle limit is refused and purged.
    ``csrf`` is the token every form of this session must carry.
    """

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user", "user_hash", "last_seen_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
