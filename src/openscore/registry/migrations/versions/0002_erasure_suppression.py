"""Erased people stay erased: the suppression list of keyed id hashes, and the session
epoch that ends every session of an account at once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_people",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_erased_people")),
    )
    # A plain ADD COLUMN (with its default) on both backends: a batch copy of ``people``
    # would drop the table on SQLite, and every person-owned row cascades from it.
    op.add_column(
        "people",
        sa.Column("session_epoch", sa.String(length=32), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("people", "session_epoch")  # SQLite >= 3.35 drops a column in place
    op.drop_table("erased_people")
