"""Database models. Names follow an explicit convention so that migrations stay stable."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class KbEntry(Base):
    """A knowledge-base entry: the database is the source of truth, files are imports."""

    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    category: Mapped[str] = mapped_column(String(120))
    procedure: Mapped[str] = mapped_column(String(300), default="")
    question: Mapped[str] = mapped_column(String(500))
    alternatives: Mapped[list[str]] = mapped_column(default=list)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    answer: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    aspect: Mapped[str] = mapped_column(String(20), default="")
    legal_refs: Mapped[list[str]] = mapped_column(default=list)
    reviewed: Mapped[str] = mapped_column(String(10), default="")
    review_by: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KbState(Base):
    """A single row whose ``revision`` grows on every knowledge change; processes poll it."""

    __tablename__ = "kb_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatStateRow(Base):
    """One person's state in one conversation; locked for each update (FOR UPDATE).

    ``chat_id`` holds a keyed hash of (channel, chat, user), never a platform id: in a group
    every member has their own row. ``user_hash`` finds a person's rows to forget them.
    """

    __tablename__ = "chat_states"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    state: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedEvent(Base):
    """Deliveries already handled: a redelivery of the same id is dropped."""

    __tablename__ = "processed_events"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MessageLog(Base):
    """Every question and what the assistant did with it; no personal data in clear."""

    __tablename__ = "message_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    question: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)


class AnswerFeedback(Base):
    """A citizen's verdict on one answer ("Câu trả lời có hữu ích không?")."""

    __tablename__ = "answer_feedback"
    __table_args__ = (Index("ix_answer_feedback_entry_id", "entry_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message_log.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)
    helpful: Mapped[bool] = mapped_column(Boolean)
    trip_saved: Mapped[bool | None] = mapped_column(Boolean, default=None)


class WebSession(Base):
    """A web-chat session issued by the server; only a hash of the token is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# ------------------------------------------------------------------ dossiers (hồ sơ)


class Agency(Base):
    """An agency: the city, its departments, its wards and communes, vertical agencies.

    ``path`` is the chain of ids from the root ("/1/7/"), so that "this agency and everything
    under it" is one indexed ``LIKE 'path%'`` on SQLite and PostgreSQL alike.
    """

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), default=None)
    path: Mapped[str] = mapped_column(String(200), default="/", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class Procedure(Base):
    """An administrative procedure (thủ tục hành chính) with its legal time limit."""

    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    field: Mapped[str] = mapped_column(String(120), default="")
    time_limit: Mapped[int | None] = mapped_column(Integer, default=None)
    time_unit: Mapped[str] = mapped_column(String(20), default="ngay_lam_viec")
    fee: Mapped[str] = mapped_column(String(300), default="")
    online_level: Mapped[str] = mapped_column(String(20), default="mot_phan")
    kb_procedure: Mapped[str] = mapped_column(String(300), default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class Dossier(Base):
    """One application. Personal identifiers are kept only as keyed hashes, the name only masked."""

    __tablename__ = "dossiers"
    __table_args__ = (
        Index("ix_dossiers_receiving_received", "receiving_agency_id", "received_date"),
        Index("ix_dossiers_handling_received", "handling_agency_id", "received_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    receiving_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    handling_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    channel: Mapped[int] = mapped_column(Integer, default=1)
    owner_name_masked: Mapped[str] = mapped_column(String(120), default="")
    owner_id_hmac: Mapped[str | None] = mapped_column(String(64), default=None)
    owner_phone_hmac: Mapped[str | None] = mapped_column(String(64), default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    received_date: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    rescheduled_due_date: Mapped[date | None] = mapped_column(Date, default=None)
    finished_date: Mapped[date | None] = mapped_column(Date, default=None)
    returned_date: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[int] = mapped_column(Integer, index=True)
    supplement_count: Mapped[int] = mapped_column(Integer, default=0)
    supplement_reason: Mapped[str] = mapped_column(Text, default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DossierEvent(Base):
    """A status change in a dossier's history; ``source_id`` makes redelivered events harmless."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[str] = mapped_column(String(128), unique=True)
    at: Mapped[datetime] = mapped_column()
    from_status: Mapped[int | None] = mapped_column(Integer, default=None)
    to_status: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")


class DossierPause(Base):
    """Time the dossier waited for the citizen (a supplement request); excluded from timeliness."""

    __tablename__ = "dossier_pauses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    requested_date: Mapped[date] = mapped_column(Date)
    resumed_date: Mapped[date | None] = mapped_column(Date, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")


class ApiKey(Base):
    """A bearer key of the one-stop system, stored hashed, allowed for one agency's subtree."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LookupAudit(Base):
    """Every dossier lookup attempt: who (hashed), which code, the outcome; never what was typed."""

    __tablename__ = "lookup_audit"
    __table_args__ = (
        Index("ix_lookup_audit_user_at", "user_hash", "at"),
        Index("ix_lookup_audit_code_at", "code", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(40))
    dossier_id: Mapped[int | None] = mapped_column(BigId, default=None)
    outcome: Mapped[str] = mapped_column(String(16))


class Subscription(Base):
    """A verified citizen's request to be told when a dossier's status changes."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("uq_subscriptions_target", "dossier_id", "channel", "chat_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxMessage(Base):
    """A message to send later (notifications); claimed by one sender at a time.

    ``dedupe_key`` makes creating the same notification twice impossible. ``status`` moves
    pending -> sending (claimed by one sender until ``claimed_until``) -> sent; a failure goes
    back to pending with a later ``next_attempt_at``, or to parked after repeated failures, or
    to undeliverable when the platform says the user cannot be reached.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(300), default="")


# ------------------------------------------------------------------ roles and feedback


class RoleGrant(Base):
    """A staff member's or admin's role. Citizens have no row (the default role).

    ``user_hash`` is what incoming messages are matched on; the clear ``user_id`` is kept only
    for staff, who are sent alerts, never for citizens.
    """

    __tablename__ = "roles"

    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), default=None)
    alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The name shown in the console and in knowledge-base history (given at the grant, or
    #: the platform's display name at sign-in); staff are public servants acting in office.
    display_name: Mapped[str] = mapped_column(String(120), default="")


class FeedbackInvitation(Base):
    """An invitation to rate a finished dossier, so that the response rate can be computed."""

    __tablename__ = "feedback_invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_hash: Mapped[str] = mapped_column(String(64))
    responded_at: Mapped[datetime | None] = mapped_column(default=None)


class FeedbackResponse(Base):
    """One submitted rating: of a dossier, or of a service point without a dossier.

    ``dedupe_key`` ("dossier:<id>:<user hash>") allows one rating per dossier per owner.
    """

    __tablename__ = "feedback_responses"
    __table_args__ = (Index("ix_feedback_responses_agency_at", "agency_id", "submitted_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True, default=None)
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="SET NULL"), default=None, index=True
    )
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), default=None)
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"), default=None)
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str] = mapped_column(String(64))
    respondent: Mapped[str] = mapped_column(String(16), default="citizen")
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_invitations.id", ondelete="SET NULL"), default=None
    )
    comment: Mapped[str] = mapped_column(Text, default="")


class FeedbackAnswer(Base):
    """One answer to one item, kept raw so that every index can be recomputed.

    ``item_code``: "rating3" (the portal's three levels), "sipas.<aspect>" (five levels);
    ``aspect``: tiep_can | tthc | cong_chuc | ket_qua | pakn | tong_the; ``kind``: hai_long |
    nhan_dinh | mong_doi; ``scale``: "3" (1 Không hài lòng, 2 Hài lòng, 3 Rất hài lòng) or "5"
    (1 Rất không hài lòng … 5 Rất hài lòng); a skipped item has no value and is not valid.
    """

    __tablename__ = "feedback_answers"
    __table_args__ = (Index("ix_feedback_answers_item", "item_code", "response_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_responses.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(40))
    aspect: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="hai_long")
    scale: Mapped[str] = mapped_column(String(8))
    value: Mapped[int | None] = mapped_column(Integer, default=None)
    is_valid: Mapped[bool] = mapped_column(Boolean, default=True)


# ------------------------------------------------------------------ shared rate limits


class RateCounter(Base):
    """Hits of one key (a web client, a chat, a bot) in one fixed time window.

    Kept in the database so that every worker counts against the same limit: N workers
    allow the rate once, not N times. Rows of past windows are purged.
    """

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """The window's number: seconds since the epoch divided by the window's length."""
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
