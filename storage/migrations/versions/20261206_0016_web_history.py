"""web chat history: the bubbles of each web session, kept as long as the session

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 02:00:00.000000

Written by hand; the model is in ``storage.models.web``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_hash"],
            ["web_sessions.token_hash"],
            name=op.f("fk_web_history_session_hash_web_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_history")),
    )
    op.create_index("ix_web_history_session", "web_history", ["session_hash", "id"])


def downgrade() -> None:
    op.drop_index("ix_web_history_session", table_name="web_history")
    op.drop_table("web_history")
