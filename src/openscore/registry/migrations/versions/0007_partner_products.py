"""Partners declare the catalogue products they offer (``partners.products``, a JSON list;
null for partners registered before, who may be offered any product until an operator
sets their list). Grants keep their purpose column as it is: purposes given as free text
before grants were checked stay stored and shown as they were.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("products", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("products")
