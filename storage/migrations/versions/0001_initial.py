"""The initial schema: accounts, identities, ledger, messages, usage events, processed
events. Written by hand to match ``storage.tables``.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def _ref(table: str, name: str, nullable: bool = False) -> sa.Column[int]:
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    key = sa.ForeignKey("accounts.id", name=f"fk_{table}_{name}_accounts")
    return sa.Column(name, kind, key, nullable=nullable)


def _at(nullable: bool = False) -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "accounts",
        _id(),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("banned", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("chat_model", sa.String(200), nullable=True),
        _ref("accounts", "merged_into", nullable=True),
        sa.Column("last_hold", sa.BigInteger(), nullable=False),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_table(
        "identities",
        _id(),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("workspace", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        _ref("identities", "account_id"),
        sa.Column("display_name", sa.String(300), nullable=True),
        sa.Column("name_key", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identities"),
        sa.UniqueConstraint("platform", "workspace", "user_id", name="uq_identities_platform"),
    )
    op.create_index("ix_identities_account_id", "identities", ["account_id"])
    op.create_index("ix_identities_platform_name_key", "identities", ["platform", "name_key"])
    op.create_table(
        "ledger",
        _id(),
        _ref("ledger", "account_id"),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=True),
        _ref("ledger", "actor_account_id", nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_ledger"),
        sa.UniqueConstraint("request_id", "kind", name="uq_ledger_request_id"),
    )
    op.create_index("ix_ledger_account_id", "ledger", ["account_id"])
    op.create_table(
        "messages",
        _id(),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(200), nullable=False),
        _ref("messages", "account_id"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("in_window", sa.Boolean(), nullable=False),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index(
        "ix_messages_window", "messages", ["platform", "chat_id", "account_id", "in_window", "id"]
    )
    op.create_index("ix_messages_account_request", "messages", ["account_id", "request_id"])
    op.create_table(
        "usage_events",
        _id(),
        sa.Column("request_id", sa.String(100), nullable=False),
        _ref("usage_events", "account_id"),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("feature", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_usage_events"),
    )
    op.create_index("ix_usage_events_account_id", "usage_events", ["account_id"])
    op.create_index("ix_usage_events_created_at", "usage_events", ["created_at"])
    op.create_table(
        "processed_events",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        _at(),
        sa.PrimaryKeyConstraint("platform", "event_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_created_at", "processed_events", ["created_at"])


def downgrade() -> None:
    for table in ("processed_events", "usage_events", "messages", "ledger", "identities"):
        op.drop_table(table)
    op.drop_table("accounts")
