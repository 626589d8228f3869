"""Score semantics: a published score may be ``unscorable`` (no number), carries the
factors that help, and disputes resolved in the person's favour leave correction notices
for the partners that decided on the record.

Revision ID: 0003
Revises: 0005
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS_CHECK = (
    "(status = 'scored' AND score IS NOT NULL AND band IS NOT NULL) OR "
    "(status = 'unscorable' AND score IS NULL AND band IS NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("published_scores") as batch:
        batch.alter_column("score", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("band", existing_type=sa.String(length=16), nullable=True)
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="scored")
        )
        batch.add_column(sa.Column("helps", sa.JSON(), nullable=True))
        batch.create_check_constraint("status", _STATUS_CHECK)
    op.create_table(
        "correction_notices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=128), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("dispute_id", sa.String(length=32), nullable=False),
        sa.Column("record_ref", sa.String(length=256), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_correction_notices_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["disputes.id"],
            name=op.f("fk_correction_notices_dispute_id_disputes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_correction_notices_partner_id_partners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_correction_notices_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_notices")),
    )
    op.create_index(op.f("ix_correction_notices_partner_id"), "correction_notices", ["partner_id"])
    op.create_index(op.f("ix_correction_notices_person_id"), "correction_notices", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_correction_notices_person_id"), table_name="correction_notices")
    op.drop_index(op.f("ix_correction_notices_partner_id"), table_name="correction_notices")
    op.drop_table("correction_notices")
    op.execute("DELETE FROM published_scores WHERE status = 'unscorable'")
    with op.batch_alter_table("published_scores") as batch:
        batch.drop_constraint("status", type_="check")
        batch.drop_column("helps")
        batch.drop_column("status")
        batch.alter_column("band", existing_type=sa.String(length=16), nullable=False)
        batch.alter_column("score", existing_type=sa.Integer(), nullable=False)
