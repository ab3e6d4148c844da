"""The owners of files uploaded through /v1/files. Written by hand to match
``storage.tables.GatewayFileRow``.

Revision ID: 0006_gateway_files
Revises: 0003_leases
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_gateway_files"
down_revision: str | None = "0005_key_limits"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_files",
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("file_id", sa.String(200), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_gateway_files_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider", "file_id", name="pk_gateway_files"),
    )
    op.create_index("ix_gateway_files_account_id", "gateway_files", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_gateway_files_account_id", table_name="gateway_files")
    op.drop_table("gateway_files")
