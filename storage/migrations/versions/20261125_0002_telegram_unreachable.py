"""channel recipients: chats a channel cannot reach (Telegram users who blocked the bot)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:00:00.000000

Written by hand; the model is ``storage.models.channels.ChannelRecipient``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_recipients",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_channel_recipients")),
    )


def downgrade() -> None:
    op.drop_table("channel_recipients")
