"""Value types shared by the use cases, the adapters and the storage layer.

All are frozen dataclasses: platform objects and ORM rows never cross into the core.
Money is an ``int`` of micro-credits (see ``core.money``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.text_input import clean_text


class Role(StrEnum):
    GUEST = "guest"
    USER = "user"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.GUEST: 0, Role.USER: 1, Role.ADMIN: 2}


class Feature(StrEnum):
    CHAT = "chat"
    IMAGE = "image"
    TTS = "tts"
    STT = "stt"
    EMBEDDING = "embedding"
    # Not a model kind: /v1/files uploads, when GATEWAY_FILE_CREDITS_PER_MB prices them.
    FILES = "files"


class Outcome(StrEnum):
    OK = "ok"
    STOPPED = "stopped"
    CUT = "cut"
    FAILED = "failed"
    REFUSED = "refused"


class LedgerKind(StrEnum):
    WELCOME = "welcome"
    GRANT = "grant"
    HOLD = "hold"
    SETTLE = "settle"
    LINK_IN = "link_in"
    LINK_OUT = "link_out"
    ALLOWANCE = "allowance"


@dataclass(frozen=True, slots=True)
class IdentityKey:
    """Who someone is on one platform. ``workspace`` is "" where a platform has none."""

    platform: str
    workspace: str
    user_id: str

    def __str__(self) -> str:
        scope = f"{self.workspace}/" if self.workspace else ""
        return f"{self.platform}:{scope}{self.user_id}"


@dataclass(frozen=True, slots=True)
class Identity:
    key: IdentityKey
    account_id: int
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    role: Role
    banned: bool
    balance: int
    language: str | None
    chat_model: str | None
    created_at: datetime
    allowance_period: str | None = None  # the last allowance period applied
    allowance_override: str | None = None  # an admin's "daily:50" / "none" for this account


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    account_id: int
    amount: int
    kind: LedgerKind
    request_id: str | None = None
    actor_account_id: int | None = None
    reason: str | None = None
    created_at: datetime | None = None
    api_key_id: int | None = None  # the API key a hold was made with (its budget is refunded)


@dataclass(frozen=True, slots=True)
class KeyLimits:
    """What an API key may do, set by its owner; None means no limit of that kind.

    ``budget`` caps what the key may spend over its life, in micro-credits; ``models``
    names the model keys it may use; ``per_minute`` is its own request rate."""

    key_id: int
    budget: int | None = None
    expires_at: datetime | None = None
    models: frozenset[str] | None = None
    per_minute: int | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def allows_model(self, model: str) -> bool:
        return self.models is None or model in self.models


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One person's thread of context in one chat (a group member has their own)."""

    platform: str
    chat_id: str
    account_id: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    role: str  # "user" | "assistant"
    content: str
    request_id: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One past request and the answer it got, for /history."""

    request_id: str
    question: str
    answer: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class UsageEvent:
    request_id: str
    account_id: int
    platform: str
    feature: Feature
    model: str
    prompt_tokens: int
    completion_tokens: int
    credits: int
    latency_ms: int
    outcome: Outcome
    created_at: datetime


class StatsDimension(StrEnum):
    DAY = "day"
    MODEL = "model"
    PLATFORM = "platform"
    FEATURE = "feature"
    # "YYYY-MM-DD platform": what the usage chart stacks per day.
    DAY_PLATFORM = "day_platform"
    # "YYYY-MM-DD model": the admin console's per-model chart.
    DAY_MODEL = "day_model"
    # "feature model": a person's own spending (/usage).
    FEATURE_MODEL = "feature_model"


@dataclass(frozen=True, slots=True)
class StatsRow:
    key: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    credits: int
    errors: int


# ---- provider-facing types -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImagePart:
    """A picture sent with a question, already downscaled (see ``core.services.images_in``).
    ``width``/``height`` are its pixels, which the hold's token estimate is built from."""

    data: bytes
    mime: str
    width: int
    height: int

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """``content`` is the text; ``images`` (user messages only) go as image content parts
    after it. A message without images is sent as a plain string, as before."""

    role: str  # "system" | "user" | "assistant"
    content: str
    images: tuple[ImagePart, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One piece of a streamed completion: text, or (last) the upstream's usage."""

    text: str = ""
    usage: Usage | None = None

    def __post_init__(self) -> None:
        # The upstream is outside text too: NUL or a lone surrogate escape in an answer
        # must not break counting, delivery or the settlement.
        if self.text:
            object.__setattr__(self, "text", clean_text(self.text))


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    duration_s: float | None


# ---- what a use case yields to an adapter ----------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    """New text; ``text`` is the increment, ``full`` everything produced so far."""

    text: str
    full: str


@dataclass(frozen=True, slots=True)
class TextDone:
    """The answer is complete (or was stopped/cut: see ``outcome``)."""

    text: str
    credits: int
    usage: Usage
    outcome: Outcome = Outcome.OK
    # The output limit was cut to what the balance and the overdraft pay for, and the
    # answer reached it: the person is told in a line after the answer.
    shortened: bool = False


@dataclass(frozen=True, slots=True)
class ImageReady:
    data: bytes
    mime: str
    prompt: str
    credits: int


@dataclass(frozen=True, slots=True)
class AudioReady:
    data: bytes
    mime: str
    credits: int


@dataclass(frozen=True, slots=True)
class Notice:
    """A translated message from the bot itself (e.g. a transcript header)."""

    key: str
    params: dict[str, str] = field(default_factory=dict)
    text: str = ""


ReplyEvent = TextDelta | TextDone | ImageReady | AudioReady | Notice
