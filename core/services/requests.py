"""What adapters hand to the use cases: who asks, where, and what."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from core.types import IdentityKey


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Caller:
    """The person behind a platform event. ``locale`` is the platform's hint, if any."""

    identity: IdentityKey
    display_name: str | None = None
    locale: str | None = None

    @property
    def platform(self) -> str:
        return self.identity.platform


@dataclass(frozen=True, slots=True)
class PaidRequest:
    """Common to every request that costs credits.

    ``chat_id`` scopes the conversation (a chat, a thread, a DM); ``event_id`` is the
    platform's id for the event, recorded once so a redelivery gets no second answer."""

    caller: Caller
    chat_id: str
    event_id: str | None = None
    model: str | None = None
    request_id: str = field(default_factory=new_request_id)


@dataclass(frozen=True, slots=True)
class ChatRequest(PaidRequest):
    text: str = ""


@dataclass(frozen=True, slots=True)
class ImageRequest(PaidRequest):
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class SpeechRequest(PaidRequest):
    text: str = ""


@dataclass(frozen=True, slots=True)
class TranscriptionRequest(PaidRequest):
    audio: bytes = b""
    filename: str = "voice.ogg"
    # What the platform says about the clip; checked before any reservation.
    declared_seconds: float | None = None
