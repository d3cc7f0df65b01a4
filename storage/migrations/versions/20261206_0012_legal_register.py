"""legal-document register and the review list of knowledge entries

Revision ID: 0012
Revises: 0017
Create Date: 2026-12-06 02:30:00.000000

Written by hand; the models are in ``storage.models.register``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "legal_documents",
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("issuer", sa.String(length=120), nullable=False),
        sa.Column("issued", sa.String(length=10), nullable=False),
        sa.Column("effective", sa.String(length=10), nullable=False),
        sa.Column("expired", sa.String(length=10), nullable=False),
        sa.Column("replaced_by", sa.String(length=40), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("caveat", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_legal_documents")),
    )
    op.create_table(
        "kb_review_items",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=80), nullable=False),
        sa.Column("since", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_review_items")),
        sa.UniqueConstraint(
            "entry_id", "document_number", "event", name="uq_kb_review_items_event"
        ),
    )
    op.create_index(
        "ix_kb_review_items_open", "kb_review_items", ["resolved_at", "entry_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_kb_review_items_open", table_name="kb_review_items")
    op.drop_table("kb_review_items")
    op.drop_table("legal_documents")
