"""Schemas of the OpenAI-compatible endpoints under /v1: the fields the official clients
send, and nothing else (unknown fields are refused like everywhere in this API)."""

from __future__ import annotations

from bots.api.schemas import INT, JSON, USAGE, nullable, obj, string

_PART: JSON = obj(["type", "text"], type={"type": "string", "enum": ["text"]}, text=string(100_000))
_MESSAGE: JSON = obj(
    ["role", "content"],
    role={"type": "string", "enum": ["system", "developer", "user", "assistant"]},
    content={
        "oneOf": [string(100_000), {"type": "array", "items": _PART, "maxItems": 50}],
    },
    name=string(64),
)
_NUMBER: JSON = {"type": ["number", "null"]}

OPENAI_SCHEMAS: dict[str, JSON] = {
    "ChatCompletionRequest": obj(
        ["model", "messages"],
        model=string(200, 1),
        messages={"type": "array", "items": _MESSAGE, "minItems": 1, "maxItems": 200},
        stream=nullable({"type": "boolean"}),
        stream_options=nullable(obj([], include_usage={"type": "boolean"})),
        temperature=_NUMBER,
        top_p=_NUMBER,
        presence_penalty=_NUMBER,
        frequency_penalty=_NUMBER,
        max_tokens=nullable({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        max_completion_tokens=nullable({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        n=nullable({"type": "integer", "minimum": 1, "maximum": 1}),
        user=string(200),
        seed=nullable({"type": "integer"}),
    ),
    "ChatCompletion": obj(
        ["id", "object", "created", "model", "choices", "usage"],
        closed=False,
        id=string(100),
        object={"type": "string", "enum": ["chat.completion"]},
        created=INT,
        model=string(200),
        choices={
            "type": "array",
            "items": obj(
                ["index", "message", "finish_reason"],
                closed=False,
                index=INT,
                message=obj(
                    ["role", "content"], closed=False, role=string(16), content={"type": "string"}
                ),
                finish_reason=string(32),
            ),
        },
        usage=USAGE,
    ),
    "ImageRequest": obj(
        ["prompt"],
        prompt=string(32_000, 1),
        model=string(200, 1),
        n=nullable({"type": "integer", "minimum": 1, "maximum": 1}),
        size=nullable(string(32)),
        response_format=nullable({"type": "string", "enum": ["b64_json"]}),
        user=string(200),
    ),
    "ImagesResponse": obj(
        ["created", "data"],
        closed=False,
        created=INT,
        data={
            "type": "array",
            "items": obj(["b64_json"], closed=False, b64_json={"type": "string"}),
        },
    ),
    "SpeechRequest": obj(
        ["input"],
        model=string(200, 1),
        input=string(100_000, 1),
        voice=string(64),
        response_format=nullable({"type": "string", "enum": ["opus"]}),
        speed=_NUMBER,
    ),
    "Transcription": obj(["text"], closed=False, text={"type": "string"}),
    "TranscriptionForm": {
        "type": "object",
        "properties": {
            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
            "model": string(200, 1),
            "response_format": {"type": "string", "enum": ["json"]},
            "language": string(16),
            "prompt": string(2000),
        },
        "required": ["file"],
        "additionalProperties": False,
    },
    "OpenAIModelList": obj(
        ["object", "data"],
        closed=False,
        object={"type": "string", "enum": ["list"]},
        data={
            "type": "array",
            "items": obj(
                ["id", "object", "created", "owned_by"],
                closed=False,
                id=string(200),
                object={"type": "string", "enum": ["model"]},
                created=INT,
                owned_by=string(100),
            ),
        },
    ),
}
