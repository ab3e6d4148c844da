"""Access control and announcements: allow/block rules (and the mode set by /access),
invitation codes, and who muted announcements. Written by hand to match ``storage.tables``.

Revision ID: 0008_access
Revises: 0005_key_limits
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_access"
down_revision: str | None = "0005_key_limits"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "access_rules",
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("actor_account_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", name="pk_access_rules"),
    )
    op.create_table(
        "invites",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("actor_account_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_invites"),
    )
    op.create_table(
        "announcement_mutes",
        sa.Column(
            "account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_announcement_mutes_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_announcement_mutes"),
    )


def downgrade() -> None:
    op.drop_table("announcement_mutes")
    op.drop_table("invites")
    op.drop_table("access_rules")
