"""Reading an OpenAI chat completion: the payloads of a streamed one (``chat.completion.chunk``
objects, then ``[DONE]``) and a whole ``chat.completion`` from servers that ignore
``stream``."""

from __future__ import annotations

import json

from core.errors import UpstreamError
from core.providers.http_errors import error_message, redact
from core.types import ChatChunk, Usage

DONE = "[DONE]"


class ChunkReader:
    """Turns one SSE payload at a time into the ``ChatChunk``s it carries.

    Usage normally comes in its own chunk with empty ``choices`` and is passed on at
    once; some servers attach it to content chunks instead, so the last such value is
    held back and passed on at ``[DONE]``."""

    def __init__(self, secret: str | None) -> None:
        self._secret = secret
        self.done = False
        self._held: Usage | None = None

    def read(self, payload: str) -> list[ChatChunk]:
        if payload.strip() == DONE:
            self.done = True
            held, self._held = self._held, None
            return [ChatChunk(usage=held)] if held else []
        chunk = _load(payload, self._secret)
        choices = chunk.get("choices") or []
        out: list[ChatChunk] = []
        text = _delta_text(choices)
        if text:
            out.append(ChatChunk(text=text))
        usage = parse_usage(chunk.get("usage"))
        if usage is not None:
            if choices:
                self._held = usage
            else:
                self._held = None
                out.append(ChatChunk(usage=usage))
        return out


def whole_completion(body: bytes, secret: str | None) -> list[ChatChunk]:
    """The chunks of a non-streamed ``chat.completion`` object."""
    completion = _load(body.decode("utf-8", errors="replace"), secret)
    out: list[ChatChunk] = []
    choices = completion.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message") or {}
        text = message.get("content") if isinstance(message, dict) else None
        if isinstance(text, str) and text:
            out.append(ChatChunk(text=text))
    usage = parse_usage(completion.get("usage"))
    if usage is not None:
        out.append(ChatChunk(usage=usage))
    return out


def parse_usage(value: object) -> Usage | None:
    if not isinstance(value, dict):
        return None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion)


def _load(payload: str, secret: str | None) -> dict[str, object]:
    try:
        chunk = json.loads(payload)
    except ValueError:
        raise UpstreamError(f"malformed chunk: {redact(payload[:80], secret)!r}") from None
    if not isinstance(chunk, dict):
        raise UpstreamError("malformed chunk: not an object")
    if chunk.get("error"):
        raise UpstreamError(f"error mid-stream: {redact(error_message(chunk), secret)}"[:300])
    return chunk


def _delta_text(choices: object) -> str:
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""
