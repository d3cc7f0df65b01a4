"""knowledge administration: entry history, pending imports, inbox statuses, audit log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:00:00.000000

Written by hand; the models are in ``storage.models.admin``. The audit log is append-only: a
trigger refuses UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) on it, whatever the code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PG_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only the retention purge deletes, and only while it holds a row in audit_purge.
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_purge) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "WHEN NOT EXISTS (SELECT 1 FROM audit_purge) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed'); END",
)


def upgrade() -> None:
    op.create_table(
        "audit_purge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_purge")),
    )
    op.create_table(
        "kb_history",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_hash", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("batch", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_history")),
    )
    with op.batch_alter_table("kb_history", schema=None) as batch_op:
        batch_op.create_index("ix_kb_history_entry", ["entry_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_history_batch"), ["batch"], unique=False)

    op.create_table(
        "kb_pending_imports",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("actor_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("fmt", sa.String(length=8), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_pending_imports")),
        sa.UniqueConstraint("nonce", name=op.f("uq_kb_pending_imports_nonce")),
    )
    with op.batch_alter_table("kb_pending_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_pending_imports_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "inbox_status",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_inbox_status")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index("ix_audit_log_actor_at", ["actor_hash", "at"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_APPEND_ONLY)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_actor_at")
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
    op.drop_table("inbox_status")
    with op.batch_alter_table("kb_pending_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_pending_imports_expires_at"))
    op.drop_table("kb_pending_imports")
    with op.batch_alter_table("kb_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_history_batch"))
        batch_op.drop_index("ix_kb_history_entry")
    op.drop_table("kb_history")
    op.drop_table("audit_purge")
