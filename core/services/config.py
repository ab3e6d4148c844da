"""The knobs the use cases read, gathered in one frozen value built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.money import MICRO
from core.services.allowances import AllowancePolicy
from core.types import IdentityKey, Role

DEFAULT_SYSTEM_PROMPT = (
    "You are Switchboard, a helpful assistant in a chat app. Always answer in the language "
    "the user writes in. Use Markdown sparingly."
)


@dataclass(frozen=True, slots=True)
class RoleLimits:
    per_minute: int
    concurrent: int


DEFAULT_ROLE_LIMITS = {
    Role.GUEST: RoleLimits(per_minute=10, concurrent=1),
    Role.USER: RoleLimits(per_minute=30, concurrent=3),
    Role.ADMIN: RoleLimits(per_minute=120, concurrent=10),
}


@dataclass(frozen=True, slots=True)
class CoreConfig:
    new_account_role: Role = Role.USER
    welcome_credits: int = 100 * MICRO
    # How far below zero one request may take a balance (sub-units): MAX_OVERDRAFT.
    max_overdraft: int = MICRO
    allowances: AllowancePolicy = field(default_factory=AllowancePolicy)
    context_messages: int = 3
    bootstrap_admins: frozenset[IdentityKey] = frozenset()
    role_limits: dict[Role, RoleLimits] = field(default_factory=lambda: dict(DEFAULT_ROLE_LIMITS))
    max_input_chars: int = 12_000
    max_tts_chars: int = 4_096
    max_audio_bytes: int = 20 * 1024 * 1024
    max_audio_seconds: int = 600
    max_image_bytes: int = 10 * 1024 * 1024
    # Pictures are shrunk to fit this many pixels on their longer side before sending.
    image_max_side: int = 1024
    max_document_bytes: int = 10 * 1024 * 1024
    max_document_pages: int = 50
    document_tokens: int = 8_000
    link_code_ttl_s: int = 600
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    # Context older than this (since the last message) is reset before a question; 0: never.
    context_idle_minutes: int = 0
    # How many replied-to messages (a reply chain, a thread parent) go with a question.
    quote_depth: int = 1
    # How often a running stream looks for a Stop flag (a Redis read each time).
    stop_poll_s: float = 0.3
    # Access control (core.services.access): ``closed`` admits only listed people and
    # chats, invitees and existing accounts. Lists are subjects such as ``telegram:123``,
    # ``discord:server:42`` or ``slack:chat:T01/C02``; the database adds to them.
    access_mode: str = "open"
    access_allow: frozenset[str] = frozenset()
    access_block: frozenset[str] = frozenset()
    # Which events admins are told about: new_user, closed_refusal, zero_balance.
    notify_admins: frozenset[str] = frozenset()
    # How long a worker holds a broadcast it sends; a dead worker's is taken over after it.
    broadcast_lease_s: float = 30.0
    # How many /v1 files one account may keep at the provider (GATEWAY_FILES_PER_ACCOUNT).
    gateway_files_per_account: int = 100
    # Micro-credits per started megabyte of a /v1/files upload (GATEWAY_FILE_CREDITS_PER_MB);
    # 0: uploads are free, reserve nothing and record no usage.
    gateway_file_micro_per_mb: int = 0


def parse_admins(raw: str) -> frozenset[IdentityKey]:
    """``telegram:123,slack:T01/U02,api:alice`` → identity keys. Raises ValueError."""
    keys: set[IdentityKey] = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        platform, sep, rest = item.partition(":")
        if not sep or not platform or not rest:
            raise ValueError(f"{item!r} is not platform:user_id")
        workspace, _, user = rest.rpartition("/")
        keys.add(IdentityKey(platform.lower(), workspace, user))
    return frozenset(keys)
