"""Worker leases: the lease table, which worker holds which reservation, and whether a
processed event died unanswered. Written by hand to match ``storage.tables``.

Revision ID: 0003_leases
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_leases"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "worker_leases",
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name="pk_worker_leases"),
    )
    op.create_table(
        "hold_owners",
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_hold_owners"),
    )
    op.create_index("ix_hold_owners_worker_id", "hold_owners", ["worker_id"])
    with op.batch_alter_table("processed_events") as batch:
        batch.add_column(sa.Column("request_id", sa.String(100), nullable=True))
        batch.add_column(
            sa.Column("abandoned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_processed_events_request_id", "processed_events", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_request_id", table_name="processed_events")
    with op.batch_alter_table("processed_events") as batch:
        batch.drop_column("abandoned")
        batch.drop_column("request_id")
    op.drop_index("ix_hold_owners_worker_id", table_name="hold_owners")
    op.drop_table("hold_owners")
    op.drop_table("worker_leases")
