"""A real score history and alerts: published scores may be ``recomputed`` history points
(with the points of every term); people are notified of inquiries, decisions, score
changes and dispute outcomes, and may have a webhook of their own, delivered through the
partners' outbox.

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("published_scores") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="published")
        )
        batch.add_column(sa.Column("contributions", sa.JSON(), nullable=True))
        batch.create_check_constraint("kind", "kind IN ('published', 'recomputed')")
    op.create_index(
        "ix_published_scores_kind_as_of", "published_scores", ["kind", "as_of"], unique=False
    )
    with op.batch_alter_table("webhook_outbox") as batch:
        batch.alter_column("partner_id", existing_type=sa.String(length=64), nullable=True)
        batch.add_column(sa.Column("person_id", sa.String(length=128), nullable=True))
        batch.create_foreign_key(
            op.f("fk_webhook_outbox_person_id_people"),
            "people",
            ["person_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_check_constraint("recipient", "(partner_id IS NULL) <> (person_id IS NULL)")
        batch.create_index(op.f("ix_webhook_outbox_person_id"), ["person_id"], unique=False)
    op.create_table(
        "person_webhooks",
        sa.Column("person_id", sa.String(length=128), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_webhooks_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_webhooks")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('inquiry', 'decision', 'score_change', 'dispute_outcome')",
            name=op.f("ck_notifications_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notifications_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_person_id_created_at",
        "notifications",
        ["person_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_person_id_created_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("person_webhooks")
    op.execute("DELETE FROM webhook_outbox WHERE partner_id IS NULL")
    with op.batch_alter_table("webhook_outbox") as batch:
        batch.drop_index(op.f("ix_webhook_outbox_person_id"))
        batch.drop_constraint("recipient", type_="check")
        batch.drop_constraint(op.f("fk_webhook_outbox_person_id_people"), type_="foreignkey")
        batch.drop_column("person_id")
        batch.alter_column("partner_id", existing_type=sa.String(length=64), nullable=False)
    op.drop_index("ix_published_scores_kind_as_of", table_name="published_scores")
    op.execute("DELETE FROM published_scores WHERE kind = 'recomputed'")
    with op.batch_alter_table("published_scores") as batch:
        batch.drop_constraint("kind", type_="check")
        batch.drop_column("contributions")
        batch.drop_column("kind")
