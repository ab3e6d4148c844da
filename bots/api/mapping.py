"""HTTP requests → core inputs: callers' addresses, profile changes, chat and media
requests (with their request id bound for the logs), /v1 bodies, request hashes."""

from __future__ import annotations

import hashlib
import json
from typing import TypeVar

from aiohttp import web

from bots.api import models as m
from bots.api import models_chat as mc
from bots.api import models_openai as oai
from core.observability import bind_request_id
from core.ports import KeyOptions
from core.services.gateway import GatewayChatRequest
from core.services.profile import ProfileChange
from core.services.requests import (
    Attachment,
    Caller,
    ChatRequest,
    ImageRequest,
    PaidRequest,
    SpeechRequest,
    TranscriptionRequest,
)

V1_CHAT = "v1"  # the chat id of every /v1 media request (the client owns the conversation)


def client_address(request: web.Request) -> str:
    # The peer address only: a forwarded-for header is the client's to forge.
    return request.remote or "unknown"


def header_key(request: web.Request, limit: int) -> str | None:
    """The Idempotency-Key header, trimmed; None when absent or blank."""
    return request.headers.get("Idempotency-Key", "").strip()[:limit] or None


def wants_events(request: web.Request) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "")


def profile_change(body: m.ProfileChange) -> ProfileChange:
    return ProfileChange(
        username=body.username,
        password=body.password,
        current_password=body.current_password,
        language=body.language,
        language_set="language" in body.model_fields_set,
    )


def key_options(body: m.ApiKeyCreate | m.ApiKeyChange) -> KeyOptions:
    """The limits a body sets; for a change only the fields it names (null: no limit)."""
    given = {"budget_micro", "expires_at", "models", "requests_per_minute"}
    if isinstance(body, m.ApiKeyChange):
        given &= body.model_fields_set
    names = {
        "budget_micro": "budget",
        "expires_at": "expires_at",
        "models": "models",
        "requests_per_minute": "per_minute",
    }
    return KeyOptions(
        budget=body.budget_micro,
        expires_at=body.expires_at,
        models=None if body.models is None else frozenset(body.models),
        per_minute=body.requests_per_minute,
        given=frozenset(names[field] for field in given),
    )


def request_hash(*parts: object) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


R = TypeVar("R", bound=PaidRequest)


def bound(request: R) -> R:
    """The request, with its id named in every log line of this handler from here on."""
    bind_request_id(request.request_id)
    return request


def ask_request(caller: Caller, body: mc.AskRequest, event_id: str | None) -> ChatRequest:
    return bound(
        ChatRequest(
            caller=caller,
            chat_id=body.chat_id or "api",
            text=body.text,
            model=body.model,
            event_id=event_id,
        )
    )


def ask_files_request(
    caller: Caller, fields: mc.AskFilesFields, files: tuple[Attachment, ...]
) -> ChatRequest:
    return bound(
        ChatRequest(
            caller=caller,
            chat_id=fields.chat_id or "api",
            text=fields.text,
            model=fields.model,
            attachments=files,
        )
    )


def gateway_request(caller: Caller, raw: bytes) -> GatewayChatRequest:
    """The client's body as it came (parsed, not reshaped); the core reads the model
    name from it."""
    body = json.loads(raw)
    model = body.get("model")
    return bound(
        GatewayChatRequest(
            caller,
            V1_CHAT,
            model=model if isinstance(model, str) else None,
            body=body,
            size=len(raw),
        )
    )


def image_request(caller: Caller, body: oai.ImageRequest) -> ImageRequest:
    return bound(ImageRequest(caller, V1_CHAT, prompt=body.prompt, model=body.model))


def speech_request(caller: Caller, body: oai.SpeechRequest) -> SpeechRequest:
    return bound(SpeechRequest(caller, V1_CHAT, text=body.input, model=body.model))


def transcription_request(
    caller: Caller, audio: bytes, filename: str, fields: oai.TranscriptionFields
) -> TranscriptionRequest:
    return bound(
        TranscriptionRequest(
            caller, V1_CHAT, audio=audio, filename=filename, model=fields.model or None
        )
    )
