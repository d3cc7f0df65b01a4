"""reflections (phản ánh, kiến nghị): the reflections, their events and photos

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 01:44:03.166187

The models are in ``storage.models.reflections``. Chained after 0008, the head of this branch
when it was written (the coordinator re-chains revisions at merge).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reflections",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column(
            "dossier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handled_date", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("reply_held", sa.Boolean(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("verdict_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_reflections_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_reflections_dossier_id_dossiers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflections")),
    )
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reflections_agency_received", ["agency_id", "received_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reflections_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index("ix_reflections_status_due", ["status", "due_date"], unique=False)
        batch_op.create_index(
            "ix_reflections_user_created", ["user_hash", "created_at"], unique=False
        )

    op.create_table(
        "reflection_attachments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "reflection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mime_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reflection_id"],
            ["reflections.id"],
            name=op.f("fk_reflection_attachments_reflection_id_reflections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection_attachments")),
    )
    with op.batch_alter_table("reflection_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reflection_attachments_reflection_id"), ["reflection_id"], unique=False
        )

    op.create_table(
        "reflection_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "reflection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_hash", sa.String(length=64), nullable=False),
        sa.Column("from_agency_id", sa.Integer(), nullable=True),
        sa.Column("to_agency_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reflection_id"],
            ["reflections.id"],
            name=op.f("fk_reflection_events_reflection_id_reflections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection_events")),
    )
    with op.batch_alter_table("reflection_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reflection_events_reflection_id"), ["reflection_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reflection_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reflection_events_reflection_id"))

    op.drop_table("reflection_events")
    with op.batch_alter_table("reflection_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reflection_attachments_reflection_id"))

    op.drop_table("reflection_attachments")
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.drop_index("ix_reflections_user_created")
        batch_op.drop_index("ix_reflections_status_due")
        batch_op.drop_index(batch_op.f("ix_reflections_dossier_id"))
        batch_op.drop_index("ix_reflections_agency_received")

    op.drop_table("reflections")
