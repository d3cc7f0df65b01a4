"""staff web console: sign-in links, sessions, and the display name of a role

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:00:00.000000

Written by hand; the models are in ``storage.models.staff`` and ``RoleGrant.display_name``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_login_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_login_links")),
    )
    op.create_index(
        op.f("ix_staff_login_links_user_hash"), "staff_login_links", ["user_hash"], unique=False
    )
    op.create_index(
        op.f("ix_staff_login_links_expires_at"), "staff_login_links", ["expires_at"], unique=False
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(
        "ix_staff_sessions_user", "staff_sessions", ["user_hash", "last_seen_at"], unique=False
    )
    with op.batch_alter_table("roles") as batch:
        batch.add_column(
            sa.Column("display_name", sa.String(length=120), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("roles") as batch:
        batch.drop_column("display_name")
    op.drop_index("ix_staff_sessions_user", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_index(op.f("ix_staff_login_links_expires_at"), table_name="staff_login_links")
    op.drop_index(op.f("ix_staff_login_links_user_hash"), table_name="staff_login_links")
    op.drop_table("staff_login_links")
