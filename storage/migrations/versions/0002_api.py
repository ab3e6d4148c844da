"""The HTTP API: credentials, refresh tokens, API keys, idempotency keys, account security
versions. Written by hand to match the API tables of ``storage.tables``.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, primary_key=True, autoincrement=True)


def _account_ref(table: str, name: str = "account_id", **kw: object) -> sa.Column[int]:
    key = sa.ForeignKey("accounts.id", name=f"fk_{table}_{name}_accounts", ondelete="CASCADE")
    return sa.Column(name, _ID, key, nullable=False, **kw)  # type: ignore[arg-type]


def _at(name: str = "created_at") -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "account_security",
        _account_ref("account_security", primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("changed_at"),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_security"),
    )
    op.create_table(
        "api_credentials",
        _id(),
        _account_ref("api_credentials"),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_api_credentials"),
        sa.UniqueConstraint("username", name="uq_api_credentials_username"),
    )
    op.create_index("ix_api_credentials_account_id", "api_credentials", ["account_id"])
    op.create_table(
        "api_refresh_tokens",
        _id(),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        _at("expires_at"),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_api_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_refresh_tokens_token_hash"),
    )
    op.create_index("ix_api_refresh_tokens_family_id", "api_refresh_tokens", ["family_id"])
    op.create_index("ix_api_refresh_tokens_username", "api_refresh_tokens", ["username"])
    op.create_table(
        "api_keys",
        _id(),
        sa.Column(
            "credential_id",
            _ID,
            sa.ForeignKey(
                "api_credentials.id",
                name="fk_api_keys_credential_id_api_credentials",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_credential_id", "api_keys", ["credential_id"])
    op.create_table(
        "api_idempotency",
        _id(),
        _account_ref("api_idempotency", "actor_account_id"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _at(),
        sa.PrimaryKeyConstraint("id", name="pk_api_idempotency"),
        sa.UniqueConstraint("actor_account_id", "key", name="uq_api_idempotency_actor_account_id"),
    )


def downgrade() -> None:
    for table in (
        "api_idempotency",
        "api_keys",
        "api_refresh_tokens",
        "api_credentials",
        "account_security",
    ):
        op.drop_table(table)
