"""knowledge entries: aspect, legal references and review dates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:00:00.000000

Optional fields of the knowledge-file format: the entry's aspect (procedure × aspect), the
numbers of the legal documents it cites, and when it was reviewed and must be reviewed again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kb_entries") as batch:
        batch.add_column(sa.Column("aspect", sa.String(20), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("legal_refs", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("reviewed", sa.String(10), nullable=False, server_default=""))
        batch.add_column(sa.Column("review_by", sa.String(10), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("kb_entries") as batch:
        for name in ("review_by", "reviewed", "legal_refs", "aspect"):
            batch.drop_column(name)
