"""The audit log's pending entries (answered with receipts, integrated by a sequencer)
and the leases of background jobs; decisions and inquiries may point at a receipt
instead of a seq.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("person_id", sa.String(length=128), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_pending_seq")),
    )
    op.create_index(
        "ix_audit_pending_unsequenced",
        "audit_pending",
        ["queued_at"],
        unique=False,
        sqlite_where=sa.text("seq IS NULL"),
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ok", sa.Boolean(), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    for table in ("decisions", "inquiries"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("audit_seq", existing_type=sa.BigInteger(), nullable=True)
            batch.add_column(sa.Column("audit_receipt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in ("decisions", "inquiries"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("audit_receipt")
    op.drop_table("job_leases")
    op.drop_index("ix_audit_pending_unsequenced", table_name="audit_pending")
    op.drop_table("audit_pending")
