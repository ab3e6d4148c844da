"""What adapters hand to the use cases: who asks, where, and what.

Every text field is passed through ``clean_text`` as the object is built (NUL removed, lone
surrogates replaced), so whatever an adapter maps, the core only ever sees storable text."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from core.text_input import clean_text
from core.types import Account, IdentityKey, KeyLimits


def new_request_id() -> str:
    return uuid.uuid4().hex


def _clean_fields(obj: object, *names: str) -> None:
    """Replace the named ``str`` fields of a frozen dataclass by their cleaned text."""
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, str):
            cleaned = clean_text(value)
            if cleaned is not value:
                object.__setattr__(obj, name, cleaned)


@dataclass(frozen=True, slots=True)
class Venue:
    """Where a message was written, for the access lists (core.services.access).

    ``chat`` is the platform's chat/channel id, ``server`` the Discord guild or Slack team
    ("" where there is none), ``roles`` the person's Discord role ids there."""

    chat: str
    private: bool
    server: str = ""
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Caller:
    """The person behind a platform event. ``locale`` is the platform's hint, if any.

    ``api_key`` is set when the request came with an API key: its limits travel with the
    caller so that the gate and the billing enforce them on every paid path, whichever
    adapter handler built the request."""

    identity: IdentityKey
    display_name: str | None = None
    locale: str | None = None
    api_key: KeyLimits | None = None
    # Where the message came from; None where the adapter has no chat (API, console).
    venue: Venue | None = None
    # The account as authentication read it a moment ago in this same request (the HTTP
    # API): the gate admits on it instead of reading it again, one round trip fewer. The
    # writes that matter re-check in SQL (a ban, the balance, the key's budget).
    account: Account | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _clean_fields(self, "display_name", "locale")

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

    def __post_init__(self) -> None:
        _clean_fields(self, "chat_id", "event_id", "model")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a question (a picture or a document), as downloaded. ``mime`` is
    what the platform said, if anything; the name's suffix decides otherwise."""

    name: str
    data: bytes
    mime: str | None = None

    def __post_init__(self) -> None:
        _clean_fields(self, "name", "mime")


@dataclass(frozen=True, slots=True)
class Quote:
    """A message the question replies to (someone else's or the bot's), nearest first.
    ``images`` are its pictures, as downloaded: sent only to a model that sees."""

    text: str
    author: str | None = None
    images: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        _clean_fields(self, "text", "author")


@dataclass(frozen=True, slots=True)
class ChatRequest(PaidRequest):
    """With ``retry`` the text is ignored: the question is the account's most recent one
    that a dead worker interrupted in ``retry_from`` (default ``chat_id``) or a thread of
    it; ``retry_of`` names that very request (a Retry button). With nothing interrupted
    (and no ``retry_of``), the last exchange stored in ``chat_id`` is asked again; with
    ``retry_from``, the one in whichever conversation under it (itself or a thread) holds
    the account's newest exchange, and the new one is kept there."""

    text: str = ""
    quoted: tuple[Quote, ...] = ()
    # Where the person's persona and instructions are kept, when not ``chat_id``: a Slack
    # thread is a conversation of its own, but takes the settings of its channel.
    settings_chat_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    retry: bool = False
    retry_of: str | None = None
    retry_from: str | None = None

    def __post_init__(self) -> None:
        PaidRequest.__post_init__(self)
        _clean_fields(self, "text", "settings_chat_id", "retry_of", "retry_from")


@dataclass(frozen=True, slots=True)
class ImageRequest(PaidRequest):
    prompt: str = ""

    def __post_init__(self) -> None:
        PaidRequest.__post_init__(self)
        _clean_fields(self, "prompt")


@dataclass(frozen=True, slots=True)
class SpeechRequest(PaidRequest):
    text: str = ""

    def __post_init__(self) -> None:
        PaidRequest.__post_init__(self)
        _clean_fields(self, "text")


@dataclass(frozen=True, slots=True)
class TranscriptionRequest(PaidRequest):
    audio: bytes = b""
    filename: str = "voice.ogg"
    # What the platform says about the clip; checked before any reservation.
    declared_seconds: float | None = None

    def __post_init__(self) -> None:
        PaidRequest.__post_init__(self)
        _clean_fields(self, "filename")
