"""API keys as virtual keys: each key's budget, expiry, allowed models and request rate,
what it has spent and how often it was used; and on the ledger, the key a hold was made
with (so the sweep refunds that key's budget too). Written by hand to match
``storage.tables``.

Revision ID: 0005_key_limits
Revises: 0003_leases
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_key_limits"
down_revision: str | None = "0004_hold_progress"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("budget", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("models", sa.Text(), nullable=True))
        batch.add_column(sa.Column("per_minute", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("spent", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("requests", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("api_key_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("api_key_id")
    with op.batch_alter_table("api_keys") as batch:
        for column in (
            "last_used_at",
            "requests",
            "spent",
            "per_minute",
            "models",
            "expires_at",
            "budget",
        ):
            batch.drop_column(column)
