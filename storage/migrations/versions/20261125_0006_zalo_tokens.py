"""zalo: the OA's token pair and each user's last interaction with the OA

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25 20:00:00.000000

Written by hand; the models are in ``storage.models.zalo``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zalo_tokens",
        sa.Column("oa_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("oa_id", name=op.f("pk_zalo_tokens")),
    )
    op.create_table(
        "zalo_interactions",
        sa.Column("oa_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("oa_id", "user_id", name=op.f("pk_zalo_interactions")),
    )


def downgrade() -> None:
    op.drop_table("zalo_interactions")
    op.drop_table("zalo_tokens")
