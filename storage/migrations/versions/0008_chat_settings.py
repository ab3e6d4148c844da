"""Chat settings: a person's persona and instructions per chat, voice replies and the
cost line for the person. Written by hand to match ``storage.tables``.

Revision ID: 0008_chat_settings
Revises: 0007_allowances
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_chat_settings"
down_revision: str | None = "0007_allowances"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "chat_settings",
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(200), nullable=False),
        sa.Column("persona", sa.String(100), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("voice", sa.String(8), nullable=False),
        sa.Column("show_cost", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_chat_settings_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", "platform", "chat_id", name="pk_chat_settings"),
    )


def downgrade() -> None:
    op.drop_table("chat_settings")
