"""What the Zalo Official Account channel keeps in the database: its tokens, and when each
follower last interacted with the OA.

Kept apart from ``storage.models`` (like ``storage.models.channels``) so that the channel adds
its tables without touching the core schema; they are created by migration 0006. Importing this
module registers the models on ``Base.metadata``; the queries are in
``storage.repositories.zalo_oa``.

Tokens live here, not in process memory or ``.env``, because Zalo's refresh token is single-use:
a refresh hands out a new pair and burns the old refresh token, so the pair must be shared by
every process and survive restarts. The columns hold sealed (encrypted and authenticated)
values; see ``bot.channels.zalo_oa.TokenCipher``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base, utcnow


class ZaloToken(Base):
    """The OA's current token pair; the row is locked (FOR UPDATE) while it is refreshed.

    ``access_token`` and ``refresh_token`` are sealed with a key derived from the server secret:
    a database dump alone does not let anyone write as the OA.
    """

    __tablename__ = "zalo_tokens"

    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ZaloInteraction(Base):
    """When a user last interacted with the OA (wrote, tapped a button, followed).

    Zalo only accepts customer-service messages within 7 days of the user's last interaction,
    so notifications outside that window are not even attempted. ``following`` is False after
    an ``unfollow`` event.
    """

    __tablename__ = "zalo_interactions"

    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_interaction_at: Mapped[datetime] = mapped_column()
    following: Mapped[bool] = mapped_column(Boolean, default=True)
