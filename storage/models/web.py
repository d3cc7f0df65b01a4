"""What the web chat keeps so that a reload shows the conversation so far.

Kept apart from ``storage.models`` (like ``storage.models.zalo``) so that the web chat adds its
table without touching the core schema; it is created by migration 0016. Importing this module
registers the model on ``Base.metadata``.

Each row is one bubble of one web session: what the citizen typed (phone and ID numbers
masked, see ``bot.domain.privacy.mask_numbers``) or one reply of the assistant with its
buttons. Rows belong to the session row and go with it (``ON DELETE CASCADE``), so the
history lives exactly as long as the session: ``WEB_SESSION_DAYS`` of inactivity, then the
daily purge removes both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base, BigId, utcnow


class WebHistoryItem(Base):
    """One bubble of a web-chat session's history."""

    __tablename__ = "web_history"
    __table_args__ = (Index("ix_web_history_session", "session_hash", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(
        String(64), ForeignKey("web_sessions.token_hash", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    role: Mapped[str] = mapped_column(String(8))  # "user" or "bot"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
