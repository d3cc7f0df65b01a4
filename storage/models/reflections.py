"""Citizens' reflections and recommendations (phản ánh, kiến nghị: PAKN), their history and
photos.

Kept apart from ``storage.models`` (which imports this module at its end, so that the tables
are always on ``Base.metadata``); the tables are created by migration 0017.

A reflection belongs to one agency at a time (``agency_id``: the one that must answer; a
forward moves it). Its reply deadline (``due_date``) is fixed when it is received, in working
days, and does not move on a forward. Whether it was handled on time is derived from
``due_date`` and ``handled_date``, never stored. Every step is a ``ReflectionEvent``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base, BigId, utcnow

# ``status`` values: waiting for the agency; answered; closed as not in the agency's scope.
OPEN, ANSWERED, NOT_IN_SCOPE = "open", "answered", "not_in_scope"
# ``subject`` values: a dossier (verified by its owner), a service point, an assistant answer.
SUBJECTS = ("dossier", "place", "assistant")


class Reflection(Base):
    """One reflection. ``text`` had phone and ID-like numbers masked before it was stored.

    ``display_name`` is the name the chat platform gave (the citizen's identity): shown in clear
    only to staff of the handling agency, masked everywhere else. ``channel`` and ``chat_id``
    say where the reply goes; ``reply_held`` is set while the reply waits for the citizen to
    write again (Zalo's messaging window had closed).
    """

    __tablename__ = "reflections"
    __table_args__ = (
        Index("ix_reflections_agency_received", "agency_id", "received_date"),
        Index("ix_reflections_status_due", "status", "due_date"),
        Index("ix_reflections_user_created", "user_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="SET NULL"), default=None, index=True
    )
    message_id: Mapped[int | None] = mapped_column(BigId, default=None)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_hash: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    handled_date: Mapped[date | None] = mapped_column(Date, default=None)
    answer: Mapped[str] = mapped_column(Text, default="")
    reply_held: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved: Mapped[bool | None] = mapped_column(Boolean, default=None)
    verdict_at: Mapped[datetime | None] = mapped_column(default=None)


class ReflectionEvent(Base):
    """One step: received, forwarded, answered, closed, escalated, held, released, verdict.

    ``actor_hash`` is the keyed hash of whoever acted ("system" for the escalation job);
    ``note`` holds the reason of a forward or closure, or the answer; never the citizen's
    identity.
    """

    __tablename__ = "reflection_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reflection_id: Mapped[int] = mapped_column(
        ForeignKey("reflections.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor_hash: Mapped[str] = mapped_column(String(64), default="")
    from_agency_id: Mapped[int | None] = mapped_column(Integer, default=None)
    to_agency_id: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class ReflectionAttachment(Base):
    """A photo sent with a reflection: re-encoded, so that no metadata (EXIF, GPS) survives."""

    __tablename__ = "reflection_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reflection_id: Mapped[int] = mapped_column(
        ForeignKey("reflections.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mime_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
