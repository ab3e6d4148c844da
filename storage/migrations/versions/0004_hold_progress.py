"""What a killed worker's holds leave behind: the produced-so-far estimate (written by the
lease heartbeat), the account and question (for /retry and for erasing), and whether
/retry may ask the question again. Written by hand to match ``storage.tables``.

Revision ID: 0004_hold_progress
Revises: 0003_leases
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_hold_progress"
down_revision: str | None = "0003_leases"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("hold_owners") as batch:
        batch.add_column(sa.Column("account_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("question", sa.Text(), nullable=True))
        batch.add_column(sa.Column("produced", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("retry_offered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_hold_owners_account_id", "hold_owners", ["account_id"])
    op.create_index("ix_hold_owners_created_at", "hold_owners", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_hold_owners_created_at", table_name="hold_owners")
    op.drop_index("ix_hold_owners_account_id", table_name="hold_owners")
    with op.batch_alter_table("hold_owners") as batch:
        batch.drop_column("retry_offered")
        batch.drop_column("produced")
        batch.drop_column("question")
        batch.drop_column("account_id")
