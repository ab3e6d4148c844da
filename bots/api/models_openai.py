"""Bodies of the OpenAI-compatible endpoints under /v1. Media bodies take the fields the
official clients send and nothing else; a chat completion is passed upstream as it is,
so its model accepts any field."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from bots.api.models import WHOLE, Body, Maybe

Name = Annotated[str, Field(min_length=1, max_length=200)]
Number = float | None
Tokens = Annotated[int, Field(ge=1, le=1_000_000), WHOLE] | None
One = Annotated[int, Field(ge=1, le=1), WHOLE] | None


class ChatCompletionRequest(BaseModel):
    """A chat completion request as OpenAI documents it. The gateway passes the body
    upstream unchanged, so every field is accepted (unknown ones too: an allowlist would
    go stale); only what the gateway itself reads is checked here."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)
    model: Name
    messages: Annotated[list[dict[str, Any]], Field(min_length=1)]
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    n: Annotated[int, Field(ge=1, le=128), WHOLE] | None = None
    max_tokens: Tokens = None
    max_completion_tokens: Tokens = None


class Open(BaseModel):
    """An OpenAI answer: clients must accept fields they do not know."""


class ChatUsage(Open):
    """The upstream's usage as it sent it (details such as ``prompt_tokens_details``
    included)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int | None = None


class ChatMessage(Open):
    role: str
    content: str | None = None  # null when the answer is tool calls


class Choice(Open):
    index: int
    message: ChatMessage
    finish_reason: str | None = None


class ChatCompletion(Open):
    """The upstream's ``chat.completion``, unchanged but for ``model``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: ChatUsage | None = None


class ImageRequest(Body):
    nullable: ClassVar[frozenset[str]] = frozenset({"n", "size", "response_format"})
    prompt: Annotated[str, Field(min_length=1, max_length=32_000)]
    model: Maybe[Name] = None
    n: One = None
    size: Annotated[str, Field(max_length=32)] | None = None
    response_format: Literal["b64_json"] | None = None
    user: Maybe[Annotated[str, Field(max_length=200)]] = None


class Image(Open):
    b64_json: str
    revised_prompt: str | None = None


class ImagesResponse(Open):
    created: int
    data: list[Image]


class SpeechRequest(Body):
    nullable: ClassVar[frozenset[str]] = frozenset({"response_format", "speed"})
    model: Maybe[Name] = None
    input: Annotated[str, Field(min_length=1, max_length=100_000)]
    voice: Maybe[Annotated[str, Field(max_length=64)]] = None
    response_format: Literal["opus"] | None = None
    speed: Number = None


class Transcription(Open):
    text: str


class TranscriptionFields(Body):
    """The text fields of the multipart form (the file is read apart, as bytes)."""

    model: Maybe[Name] = None
    response_format: Maybe[Literal["json"]] = None
    language: Maybe[Annotated[str, Field(max_length=16)]] = None
    prompt: Maybe[Annotated[str, Field(max_length=2000)]] = None


_FILE: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}


class TranscriptionForm(TranscriptionFields):
    file: Annotated[str, WithJsonSchema(_FILE)]


class OpenAIModel(Open):
    id: Annotated[str, Field(max_length=200)]
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: Annotated[str, Field(max_length=100)] = "switchboard"


class OpenAIModelList(Open):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]
