"""Allowances that refill: on each account, the last allowance period applied (the guard
that makes it exactly once per period) and an admin's per-account override. Written by
hand to match ``storage.tables``.

Revision ID: 0007_allowances
Revises: 0005_key_limits
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007_allowances"
down_revision: str | None = "0006_gateway_files"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("allowance_period", sa.String(32), nullable=True))
        batch.add_column(sa.Column("allowance_override", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("allowance_override")
        batch.drop_column("allowance_period")
