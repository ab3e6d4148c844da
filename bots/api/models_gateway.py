"""Bodies of the /v1 pass-through routes (embeddings, completions, responses, image
edits and variations, translations, files).

Unlike the rest of this API these accept fields they do not declare: the client owns the
request and every field goes upstream (an allowlist would go stale). The declared ones
are those the gateway reads to reserve credits, checked here; the raw body is what is
forwarded."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, WithJsonSchema, model_validator

from bots.api.models import WHOLE, Body, Maybe

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=1_000_000)]
TokenId = Annotated[int, Field(ge=0, le=10_000_000), WHOLE]
Tokens = Annotated[list[TokenId], Field(min_length=1, max_length=100_000)]
# What OpenAI takes as a prompt or an embedding input: a string, strings, token ids,
# or lists of token ids.
Prompt = (
    Text
    | Annotated[list[Text], Field(min_length=1, max_length=2048)]
    | Tokens
    | Annotated[list[Tokens], Field(min_length=1, max_length=2048)]
)
FILE: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
File = Annotated[str, WithJsonSchema(FILE)]


class PassThrough(Body):
    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _no_null(self) -> Self:
        # Only the declared fields: an unknown one is the upstream's to judge, null or not.
        for name in self.model_fields_set & type(self).model_fields.keys():
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name}: may not be null")
        return self


# The documented multipart forms are closed: a form field name is a plain word there, and
# fuzzers read an open form as "any name goes". The handlers still pass unknown fields on.
CLOSED = ConfigDict(extra="forbid")


class UsageOptions(PassThrough):
    include_usage: Maybe[bool] = None


class EmbeddingsRequest(PassThrough):
    model: Name
    input: Prompt
    encoding_format: Maybe[Literal["float", "base64"]] = None
    dimensions: Maybe[Annotated[int, Field(ge=1, le=8192), WHOLE]] = None


class CompletionRequest(PassThrough):
    model: Name
    prompt: Prompt
    max_tokens: Maybe[Annotated[int, Field(ge=1, le=1_000_000), WHOLE]] = None
    n: Maybe[Annotated[int, Field(ge=1, le=128), WHOLE]] = None
    stream: Maybe[bool] = None
    stream_options: Maybe[UsageOptions] = None


class ResponseRequest(PassThrough):
    model: Name
    input: Text | Annotated[list[dict[str, Any]], Field(min_length=1, max_length=10_000)]
    instructions: Maybe[Annotated[str, Field(max_length=1_000_000)]] = None
    max_output_tokens: Maybe[Annotated[int, Field(ge=16, le=1_000_000), WHOLE]] = None
    stream: Maybe[bool] = None


# ---- multipart forms: their text fields (validated), then the form with its files -------

Count = Annotated[str, Field(pattern=r"^(10|[1-9])$")]
Size = Annotated[str, Field(max_length=32)]


class ImageVariationFields(PassThrough):
    model: Maybe[Name] = None
    n: Maybe[Count] = None
    size: Maybe[Size] = None
    response_format: Maybe[Literal["url", "b64_json"]] = None
    user: Maybe[Annotated[str, Field(max_length=200)]] = None


class ImageVariationForm(ImageVariationFields):
    model_config = CLOSED

    image: File


class ImageEditFields(ImageVariationFields):
    prompt: Annotated[str, Field(min_length=1, max_length=32_000)]


class ImageEditForm(ImageEditFields):
    model_config = CLOSED

    image: File
    mask: Maybe[File] = None


class TranslationFields(PassThrough):
    model: Maybe[Name] = None
    prompt: Maybe[Annotated[str, Field(max_length=2000)]] = None
    response_format: Maybe[Literal["json", "text", "srt", "verbose_json", "vtt"]] = None


class TranslationForm(TranslationFields):
    model_config = CLOSED

    file: File


class FileFields(PassThrough):
    purpose: Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]


class FileForm(FileFields):
    model_config = CLOSED

    file: File


# ---- answers: OpenAI's objects, open to fields we do not name -------------------------


def obj(kind: str | None = None, **properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema for an OpenAI object (``object`` = ``kind`` when given)."""
    props = dict(properties)
    if kind is not None:
        props["object"] = {"const": kind}
    return {"type": "object", "properties": props, "required": sorted(props)}


STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
MODEL = obj("model", id=STRING, created=INTEGER, owned_by=STRING)
EMBEDDINGS = obj("list", data={"type": "array"}, model=STRING)
COMPLETION = obj("text_completion", id=STRING, choices={"type": "array"}, model=STRING)
RESPONSE = obj("response", id=STRING, model=STRING)
IMAGES = obj(created=INTEGER, data={"type": "array"})
FILE_OBJECT = obj("file", id=STRING, bytes=INTEGER, filename=STRING, purpose=STRING)
FILE_LIST = obj("list", data={"type": "array", "items": FILE_OBJECT})
FILE_DELETED = obj("file", id=STRING, deleted={"type": "boolean"})
