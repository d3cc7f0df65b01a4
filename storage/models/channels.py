"""Per-recipient facts that channel adapters need, such as "this user blocked the bot".

Kept apart from ``storage.models`` so that a channel can add them without touching the core
schema; the table is created by migration 0002. Importing this module registers the model on
``Base.metadata``; the queries are in ``storage.repositories.recipients``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base

MAX_REASON_CHARS = 200


class ChannelRecipient(Base):
    """One chat a channel sends to; ``unreachable_at`` is set while messages cannot arrive.

    A Telegram user who blocked the bot makes every send fail with 403: the chat is marked here
    so that nothing retries or queues messages for it, and the mark is cleared as soon as the
    user writes again (or unblocks the bot).
    """

    __tablename__ = "channel_recipients"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    unreachable_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(String(MAX_REASON_CHARS), default="")
