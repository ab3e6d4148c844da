"""Access control and announcements: allow/block rules (and the mode set by /access),
invitation codes, who muted announcements, and broadcasts with their delivery lists. Written by hand to match ``storage.tables``.

Revision ID: 0009_access
Revises: 0008_chat_settings
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009_access"
down_revision: str | None = "0008_chat_settings"
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

    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "broadcasts",
        sa.Column("id", big_id, autoincrement=True, nullable=False),
        sa.Column("actor_account_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
    )
    op.create_index("ix_broadcasts_state", "broadcasts", ["state"])
    op.create_table(
        "broadcast_deliveries",
        sa.Column("broadcast_id", big_id, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("workspace", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name="fk_broadcast_deliveries_broadcast_id_broadcasts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "account_id", name="pk_broadcast_deliveries"),
    )
    op.create_index(
        "ix_broadcast_deliveries_state", "broadcast_deliveries", ["broadcast_id", "state", "seq"]
    )


def downgrade() -> None:
    op.drop_table("broadcast_deliveries")
    op.drop_table("broadcasts")
    op.drop_table("announcement_mutes")
    op.drop_table("invites")
    op.drop_table("access_rules")
