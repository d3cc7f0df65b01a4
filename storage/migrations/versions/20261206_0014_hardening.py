"""hardening: per-person chat state keyed by hash, shared rate counters

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-06 02:00:00.000000

``chat_states`` rows were keyed by the platform's chat id, shared by every member of a group
and stored in clear. They are now keyed by a keyed hash of (channel, chat, user), which the
database cannot compute without the server secret, so the old rows are deleted: a citizen in
the middle of a flow starts it again and verifies a dossier again. ``rate_counters`` holds the
fixed-window counters that every worker shares.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM chat_states")
    with op.batch_alter_table("chat_states") as batch:
        batch.add_column(
            sa.Column("user_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch.create_index("ix_chat_states_user_hash", ["user_hash"])
    with op.batch_alter_table("chat_states") as batch:
        batch.alter_column("user_hash", server_default=None)
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "slot", name="pk_rate_counters"),
    )
    op.create_index("ix_rate_counters_expires_at", "rate_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_counters_expires_at", table_name="rate_counters")
    op.drop_table("rate_counters")
    with op.batch_alter_table("chat_states") as batch:
        batch.drop_index("ix_chat_states_user_hash")
        batch.drop_column("user_hash")
