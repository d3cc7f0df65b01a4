"""The webhook inbox: every update a webhook accepted, stored before it is acknowledged.

Kept apart from ``storage.models`` (like ``storage.models.web``) so that the inbox adds its
table without touching the core schema; it is created by migration 0023. ``storage.models``
imports this module, so the table is always registered on ``Base.metadata``.

A webhook answers 200 only once its update is committed here; handling then runs from this
table (``bot.update_inbox``), so an update survives the process that received it. A row is
``pending`` until handled, then ``done`` (its payload erased, the row kept for a while so that a
late redelivery is still recognised) or ``failed`` after too many attempts. ``chat_key`` is a
keyed hash of the chat, never the platform's id: it only serves to keep each chat's order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base, BigId, utcnow

PENDING, DONE, FAILED = "pending", "done", "failed"


class InboundUpdate(Base):
    """One webhook update, in the order it was stored (``id``)."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "event_id", name="uq_inbound_updates_event"),
        Index("ix_inbound_updates_queue", "state", "channel", "chat_key", "id"),
        Index("ix_inbound_updates_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(160))
    chat_key: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    """The update as the platform sent it (JSON); erased once handled."""
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(8), default=PENDING)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
