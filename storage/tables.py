"""The SQL schema as SQLAlchemy models. ``migrations/versions`` must create exactly this.

Timestamps are stored in UTC and always come back timezone-aware, on Postgres
(timestamptz) and on SQLite (text) alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive input is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # SQLite keeps text; dropping the offset keeps the text comparable with ``<``.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(16))
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    language: Mapped[str | None] = mapped_column(String(16))
    chat_model: Mapped[str | None] = mapped_column(String(200))
    merged_into: Mapped[int | None] = mapped_column(BigId, ForeignKey("accounts.id"))
    # What the last reserve took: written by the same UPDATE so RETURNING can report it.
    last_hold: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last allowance period applied ("daily:2026-12-04"): claimed by one guarded
    # UPDATE, so each period is applied once whatever the number of workers.
    allowance_period: Mapped[str | None] = mapped_column(String(32))
    # An admin's "daily:50" or "none" for this account instead of its role's allowance.
    allowance_override: Mapped[str | None] = mapped_column(String(64))


class IdentityRow(Base):
    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("platform", "workspace", "user_id"),
        Index("ix_identities_platform_name_key", "platform", "name_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(300))
    # casefold()ed display name, computed in Python: SQLite's lower() is ASCII-only.
    name_key: Mapped[str | None] = mapped_column(String(300))


class LedgerRow(Base):
    __tablename__ = "ledger"
    __table_args__ = (UniqueConstraint("request_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(100))
    actor_account_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("accounts.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # On a hold made with an API key: the sweep refunds that key's budget too. No foreign
    # key: the ledger outlives a revoked or erased key.
    api_key_id: Mapped[int | None] = mapped_column(BigInteger)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_window", "platform", "chat_id", "account_id", "in_window", "id"),
        Index("ix_messages_account_request", "account_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(100))
    in_window: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageRow(Base):
    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    feature: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    credits: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ProcessedEventRow(Base):
    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The request the event started, and whether that request died unanswered (its worker's
    # lease expired and the sweep refunded it): then one redelivery may process it again.
    request_id: Mapped[str | None] = mapped_column(String(100), index=True)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ChatSettingRow(Base):
    """A person's choices in one chat (persona, instructions), or for themselves
    everywhere (voice replies, cost line) under platform and chat ``""``."""

    __tablename__ = "chat_settings"

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    persona: Mapped[str | None] = mapped_column(String(100))
    instructions: Mapped[str | None] = mapped_column(Text)
    voice: Mapped[str] = mapped_column(String(8), default="off")
    show_cost: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---- worker leases: which worker holds which reservation, and which workers are alive --


class WorkerLeaseRow(Base):
    __tablename__ = "worker_leases"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HoldOwnerRow(Base):
    """One row per hold opened by a worker that holds a lease."""

    __tablename__ = "hold_owners"

    request_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # What dies with a killed worker (0004_hold_progress): the produced-so-far estimate in
    # micro-credits (written by its lease heartbeat), the question (for /retry) and
    # whether /retry may ask it again (set by the sweep, cleared when taken).
    account_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    question: Mapped[str | None] = mapped_column(Text)
    produced: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    retry_offered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# ---- signing in over HTTP: credentials, tokens, API keys, idempotent grants ----------


class AccountSecurityRow(Base):
    """Bumped on logout, password or username change, role change and ban: tokens carry
    the version they were issued under and are refused once it moved on."""

    __tablename__ = "account_security"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiCredentialRow(Base):
    __tablename__ = "api_credentials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The account the user registered with; the identity api:<username> is what follows
    # links, so lookups of the current account go through ``identities``.
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefreshTokenRow(Base):
    __tablename__ = "api_refresh_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credential_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("api_credentials.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The owner's limits (NULL: none) and the key's use; see core.ports.ApiKeyRepository.
    budget: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    models: Mapped[str | None] = mapped_column(Text)  # a JSON list of model keys
    per_minute: Mapped[int | None] = mapped_column(Integer)
    spent: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    requests: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRow(Base):
    """The first result of an idempotent admin call, replayed for a repeat of the key."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("actor_account_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---- access control and announcements (0009_access) -----------------------------------


class AccessRuleRow(Base):
    """One allow/block rule per subject (see core.services.access), or the mode."""

    __tablename__ = "access_rules"

    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16))
    # No foreign key: a rule outlives the admin account that set it.
    actor_account_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InviteRow(Base):
    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    uses_left: Mapped[int] = mapped_column(Integer)
    actor_account_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnouncementMuteRow(Base):
    """Accounts that said /mute announcements."""

    __tablename__ = "announcement_mutes"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BroadcastRow(Base):
    """One /broadcast: a draft until an admin presses Send, then sending under one
    worker's lease (``worker_id`` until ``lease_until``), then done."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor_account_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BroadcastDeliveryRow(Base):
    """One person of a broadcast and what became of the message to them."""

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (Index("ix_broadcast_deliveries_state", "broadcast_id", "state", "seq"),)

    broadcast_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key: the report outlives an erased account.
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="pending")


# ---- the /v1 gateway ------------------------------------------------------------------


class GatewayFileRow(Base):
    """A file uploaded through /v1/files: the provider's id and the account that owns it."""

    __tablename__ = "gateway_files"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
