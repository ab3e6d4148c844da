"""The /v1 gateway's relay to a provider (``core/providers/relay.py``) and the table of
files uploaded through it (``storage``).

The relay passes bodies through unchanged: JSON objects in and out, Server-Sent Events as
the raw bytes of each event, multipart forms part by part."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

JsonObject = dict[str, object]


@dataclass(frozen=True, slots=True)
class FormPart:
    """One part of a multipart form: a field (``filename`` None) or an uploaded file."""

    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class RelayEvent:
    """One Server-Sent Event: its bytes as the upstream sent them (blank line included),
    and its ``data`` joined as the SSE spec says (None for an event without data)."""

    raw: bytes
    data: str | None


@dataclass(frozen=True, slots=True)
class RawAnswer:
    body: bytes
    content_type: str


class GatewayUpstream(Protocol):
    """One provider's OpenAI-compatible HTTP API; ``path`` is relative to its base URL
    (``/embeddings``). A 4xx/5xx leaves as a core ``Upstream*`` error with the upstream's
    message, a route the server does not have (a bare 404/405) as ``EndpointUnsupported``."""

    async def post_json(self, path: str, body: JsonObject) -> JsonObject: ...

    def stream(self, path: str, body: JsonObject) -> AsyncGenerator[RelayEvent, None]:
        """The events of a streamed answer as they come. The request is sent on the first
        ``__anext__``, so an error status raises there, before any event."""
        ...

    async def post_form(self, path: str, parts: Sequence[FormPart]) -> RawAnswer:
        """The answer as sent: JSON, or text (``response_format`` srt, vtt, text)."""
        ...

    async def get_json(self, path: str, query: Mapping[str, str]) -> JsonObject: ...

    async def get_raw(self, path: str) -> RawAnswer: ...

    async def delete_json(self, path: str) -> JsonObject: ...


@dataclass(frozen=True, slots=True)
class GatewayFile:
    file_id: str  # the provider's id (``file-…``)
    account_id: int
    provider: str
    created_at: datetime


class GatewayFileRepository(Protocol):
    """Which account uploaded which provider file: nobody else may see or read it."""

    async def add(self, file: GatewayFile) -> None: ...

    async def get(self, file_id: str, provider: str) -> GatewayFile | None: ...

    async def owned(self, account_id: int) -> list[GatewayFile]:
        """The account's files, newest first."""
        ...

    async def remove(self, file_id: str, provider: str) -> bool:
        """False if there was no such row."""
        ...

    async def move_account(self, from_account: int, to_account: int) -> None:
        """Linking: the joined account's files become the surviving account's."""
        ...
