"""Settings from the environment and ``.env`` (pydantic-settings), the names in DESIGN.md.

A bad value stops start-up with one line naming the setting (see ``load_settings``)."""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.money import MICRO, PriceError, to_micro
from core.services.allowances import AllowanceMode, AllowancePolicy, parse_allowances
from core.services.config import DEFAULT_ROLE_LIMITS, RoleLimits, parse_admins
from core.types import IdentityKey, Role

DEFAULT_MODELS_FILE = Path(__file__).with_name("default_models.toml")
DEFAULT_PERSONAS_FILE = Path(__file__).with_name("default_personas.toml")
DEFAULT_SQLITE_PATH = Path("data") / "switchboard.db"


class SettingsError(Exception):
    """One line, naming the setting at fault."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = None
    redis_url: str | None = None
    # Every Redis key starts with this, so several bots (or test runs) can share a Redis.
    redis_prefix: str = "sb:"
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr | None = None
    models_file: Path = DEFAULT_MODELS_FILE
    bot_admins: str = ""
    new_account_role: Role = Role.USER
    welcome_credits: str = "100"
    # Refilling allowances (core.services.allowances): "guest:daily:2,user:daily:20".
    allowances: str = ""
    allowance_mode: AllowanceMode = AllowanceMode.TOPUP
    allowance_timezone: str = "UTC"
    # How far below zero one request may take a balance, in credits.
    max_overdraft: str = "1"
    # Tests only: "now" is read from this file (ISO-8601 UTC) at every use.
    clock_file: Path | None = None
    context_messages: int = Field(3, ge=0, le=100)
    rate_limits: str = ""
    max_input_chars: int = Field(12_000, gt=0)
    max_audio_mb: int = Field(20, gt=0)
    max_audio_seconds: int = Field(600, gt=0)
    max_image_mb: float = Field(10, gt=0)
    image_max_side: int = Field(1024, ge=64, le=4096)
    max_document_mb: float = Field(10, gt=0)
    max_document_pages: int = Field(50, gt=0)
    document_tokens: int = Field(8_000, gt=0)
    system_prompt: str | None = None
    # Access control (README "Running it for a community"): open or closed, and the
    # settings' allow/block lists of subjects, on top of what admins set in chat.
    access: Literal["open", "closed"] = "open"
    access_allow: str = ""
    access_block: str = ""
    discord_allowed_roles: str = ""
    notify_admins: str = ""
    broadcast_lease: float = Field(30.0, gt=0)
    personas_file: Path = DEFAULT_PERSONAS_FILE
    quote_depth: int = Field(1, ge=0, le=10)
    context_idle_minutes: int = Field(0, ge=0)
    auto_migrate: bool = True
    upstream_connect_timeout: float = Field(10.0, gt=0)
    upstream_idle_timeout: float = Field(60.0, gt=0)
    upstream_total_timeout: float = Field(600.0, gt=0)

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_host: str = "0.0.0.0"
    telegram_webhook_port: int = Field(8081, gt=0, lt=65536)
    telegram_drafts: bool = True
    telegram_edit_interval: float = Field(1.0, gt=0)
    telegram_global_rate: float = Field(30.0, gt=0)

    discord_bot_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None

    api_host: str = "127.0.0.1"
    api_port: int = Field(8080, gt=0, lt=65536)
    jwt_secret: SecretStr | None = None

    log_level: str = "INFO"

    @field_validator("bot_admins")
    @classmethod
    def _admins_parse(cls, value: str) -> str:
        parse_admins(value)
        return value

    @field_validator("allowances")
    @classmethod
    def _allowances_parse(cls, value: str) -> str:
        parse_allowances(value)
        return value

    @field_validator("allowance_timezone")
    @classmethod
    def _zone_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("welcome_credits", "max_overdraft", "gateway_file_credits_per_mb")
    @classmethod
    def _credits_parse(cls, value: str) -> str:
        try:
            if to_micro(value) < 0:
                raise ValueError("must not be negative")
        except PriceError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("rate_limits")
    @classmethod
    def _limits_parse(cls, value: str) -> str:
        parse_rate_limits(value)
        return value

    @field_validator("notify_admins")
    @classmethod
    def _notices_known(cls, value: str) -> str:
        unknown = set(_comma_list(value)) - NOTICE_KINDS
        if unknown:
            raise ValueError(f"unknown: {', '.join(sorted(unknown))}; known: {NOTICE_KINDS}")
        return value

    @property
    def access_allow_subjects(self) -> frozenset[str]:
        roles = (f"discord:role:{role}" for role in _comma_list(self.discord_allowed_roles))
        return frozenset((*_comma_list(self.access_allow), *roles))

    @property
    def access_block_subjects(self) -> frozenset[str]:
        return frozenset(_comma_list(self.access_block))

    @property
    def admin_notices(self) -> frozenset[str]:
        return frozenset(_comma_list(self.notify_admins))

    @field_validator("log_level")
    @classmethod
    def _level_known(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value.upper()

    @property
    def admins(self) -> frozenset[IdentityKey]:
        return parse_admins(self.bot_admins)

    @property
    def welcome_micro(self) -> int:
        return to_micro(self.welcome_credits)

    @property
    def overdraft_micro(self) -> int:
        return to_micro(self.max_overdraft)

    @property
    def gateway_file_micro_per_mb(self) -> int:
        return to_micro(self.gateway_file_credits_per_mb)

    @property
    def allowance_policy(self) -> AllowancePolicy:
        return AllowancePolicy(
            parse_allowances(self.allowances), self.allowance_mode, self.allowance_timezone
        )

    @property
    def role_limits(self) -> dict[Role, RoleLimits]:
        return parse_rate_limits(self.rate_limits)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"

    def secret_values(self) -> list[str]:
        """Every secret, for the log redaction filter."""
        secrets = [
            self.openai_api_key,
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.discord_bot_token,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.jwt_secret,
        ]
        return [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]

    # ---- Discord (issue 4) ----------------------------------------------------------------
    # Guilds to sync slash commands to (instant); empty: global commands (take a while).
    discord_guild_ids: str = ""
    # Shard ids this process runs, e.g. "0,1" (with DISCORD_SHARD_COUNT); empty: all shards.
    discord_shards: str = ""
    discord_shard_count: int | None = Field(None, gt=0)
    discord_edit_interval: float = Field(1.0, gt=0)
    discord_global_rate: float = Field(45.0, gt=0)

    @field_validator("discord_guild_ids", "discord_shards")
    @classmethod
    def _discord_ids(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not part.isdigit():
                raise ValueError(f"{part!r} is not a number; expected a comma list of ids")
        return value

    @property
    def discord_guilds(self) -> list[int]:
        return [int(p) for p in self.discord_guild_ids.split(",") if p.strip()]

    @property
    def discord_shard_ids(self) -> list[int] | None:
        ids = [int(p) for p in self.discord_shards.split(",") if p.strip()]
        return ids or None

    # ---- Slack (issue 5) -------------------------------------------------------------------
    # HTTP mode (no SLACK_APP_TOKEN): where Slack's requests arrive.
    slack_host: str = "0.0.0.0"
    slack_port: int = Field(3000, gt=0, lt=65536)
    slack_path: str = "/slack/events"
    # chat.startStream/appendStream/stopStream; off (or a refused scope): chat.update.
    slack_native_streaming: bool = True
    slack_edit_interval: float = Field(1.0, gt=0)
    # Per workspace, shared by every worker through Redis: chat.update is Tier 3 (~50/min).
    slack_updates_per_minute: float = Field(45.0, gt=0)
    slack_stream_calls_per_minute: float = Field(300.0, gt=0)

    # ---- HTTP API (issue 6) ----------------------------------------------------------------
    api_access_ttl_s: int = Field(900, gt=0)  # access tokens: 15 minutes
    api_refresh_ttl_s: int = Field(30 * 24 * 3600, gt=0)
    api_max_body_bytes: int = Field(25 * 1024 * 1024, gt=0)  # multipart (audio uploads)
    api_max_json_bytes: int = Field(1024 * 1024, gt=0)  # JSON bodies
    # JSON bodies under /v1 (a chat with images as data URLs is large; no character limit).
    api_v1_max_json_bytes: int = Field(20 * 1024 * 1024, gt=0)
    api_scrypt_n: int = Field(2**15, ge=2**10)  # password hashing cost (r=8, p=1)
    # Files one account may keep through /v1/files (uploads beyond it are refused).
    gateway_files_per_account: int = Field(100, gt=0)
    # Credits per started MB of a /v1/files upload; 0: free (OpenAI does not charge uploads).
    gateway_file_credits_per_mb: str = "0"
    # Browser clients (bots/api/cors.py): a comma list of origins, or *; empty: no CORS.
    cors_origins: str = ""
    cors_allow_credentials: bool = False  # never with *: refused below
    cors_max_age: int = Field(600, ge=0)  # seconds a browser may cache a preflight

    # ---- Web pages (issue 13) --------------------------------------------------------------
    web_registration: bool = True  # "Create account" on the sign-in page
    # Addresses or networks of reverse proxies whose X-Forwarded-For/-Proto are believed
    # (comma list, e.g. "127.0.0.1,10.0.0.0/8"); from anyone else those headers are ignored.
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.trusted_proxies)

    # ---- Operations (issue 7): backups, reservation sweep, metrics, logs -------------------
    backup_interval: float = Field(0.0, ge=0)  # seconds between scheduled backups; 0: off
    backup_dir: Path = Path("backups")
    backup_keep: int = Field(7, ge=1)  # scheduled backups kept in BACKUP_DIR
    sweep_interval: float = Field(60.0, ge=0)  # seconds between reservation sweeps; 0: off
    # Holds older than this with no settle row belong to a dead worker: keep it well
    # above UPSTREAM_TOTAL_TIMEOUT, or a live request could be refunded.
    sweep_after: float = Field(1200.0, gt=0)
    # Processed platform event ids (redelivery dedupe) are forgotten after this many days,
    # by an hourly job; 0 keeps them forever.
    event_retention_days: float = Field(7.0, ge=0)

    # Worker leases (issue 11): each worker renews its lease every LEASE_INTERVAL seconds;
    # one not renewed for LEASE_TTL seconds is dead and its holds are refunded at once.
    lease_interval: float = Field(10.0, ge=0)  # 0: off (only the age-based sweep)
    lease_ttl: float = Field(30.0, gt=0)

    # Settlements the database could not take (an outage) wait here until it can.
    settlement_journal: Path = Path("data") / "settlements.jsonl"
    metrics_port: int | None = Field(None, gt=0, lt=65536)  # GET /metrics; unset: off
    metrics_host: str = "0.0.0.0"
    log_format: str = "text"  # text | json
    console_log_file: Path = Path("data") / "console.log"  # the console chat's log

    @field_validator("cors_origins")
    @classmethod
    def _origins_parse(cls, value: str) -> str:
        for origin in filter(None, (part.strip() for part in value.split(","))):
            if origin != "*" and not ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not * or scheme://host[:port]")
        return value

    @field_validator("cors_allow_credentials")
    @classmethod
    def _no_credentials_with_wildcard(cls, value: bool, info: ValidationInfo) -> bool:
        if value and "*" in _origin_set(info.data.get("cors_origins", "")):
            raise ValueError("must be false when CORS_ORIGINS is * (no credentials for any site)")
        return value

    @property
    def cors_origin_set(self) -> frozenset[str]:
        return _origin_set(self.cors_origins)

    @model_validator(mode="after")
    def _lease_ttl_above_interval(self) -> Self:
        if self.lease_interval > 0 and self.lease_ttl < 2 * self.lease_interval:
            raise ValueError("LEASE_TTL must be at least twice LEASE_INTERVAL")
        return self

    @field_validator("log_format")
    @classmethod
    def _log_format_known(cls, value: str) -> str:
        if value.lower() not in {"text", "json"}:
            raise ValueError("one of text, json")
        return value.lower()


def parse_networks(raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``127.0.0.1, 10.0.0.0/8, ::1`` → networks (a bare address is a /32 or /128)."""
    try:
        return tuple(ip_network(p.strip(), strict=False) for p in raw.split(",") if p.strip())
    except ValueError as exc:
        raise ValueError(f"{exc}; expected a comma list of addresses or networks") from None


ORIGIN = re.compile(r"^https?://[^/\s,]+$", re.IGNORECASE)


def _origin_set(raw: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


def parse_rate_limits(raw: str) -> dict[Role, RoleLimits]:
    """``guest:10/1,user:30/3`` (requests per minute / answers in flight) over the defaults."""
    limits = dict(DEFAULT_ROLE_LIMITS)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        role, _, pair = item.partition(":")
        per_minute, _, concurrent = pair.partition("/")
        try:
            limits[Role(role.strip())] = RoleLimits(int(per_minute), int(concurrent))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not role:per_minute/concurrent") from exc
    return limits


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"bad setting {name}: {first['msg']}") from None


__all__ = ["MICRO", "Settings", "SettingsError", "load_settings"]


NOTICE_KINDS = frozenset({"new_user", "closed_refusal", "zero_balance"})


def _comma_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]
