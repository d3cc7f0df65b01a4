"""webhook inbox: updates stored before a webhook acknowledges them, handled from the store

Revision ID: 0023
Revises: 0013
Create Date: 2026-12-06 03:00:00.000000

Written by hand; the model is in ``storage.models.inbox``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(160), nullable=False),
        sa.Column("chat_key", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_updates")),
        sa.UniqueConstraint("channel", "event_id", name="uq_inbound_updates_event"),
    )
    op.create_index(
        "ix_inbound_updates_queue", "inbound_updates", ["state", "channel", "chat_key", "id"]
    )
    op.create_index("ix_inbound_updates_received_at", "inbound_updates", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_updates_received_at", table_name="inbound_updates")
    op.drop_index("ix_inbound_updates_queue", table_name="inbound_updates")
    op.drop_table("inbound_updates")
