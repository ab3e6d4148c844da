"""What the fake LLM server does for one request, and the OpenAI JSON shapes it answers with.

Token accounting is deterministic, so tests can assert exact figures:

- ``prompt_tokens`` = the whitespace-split words of every message's content, plus 3 per
  message (OpenAI's per-message overhead is of that order);
- ``completion_tokens`` = the number of content chunks sent (never more than
  ``max_tokens``). A reply is cut into one chunk per word (each with its leading
  whitespace, like a BPE token) or, with ``chunk_chars``, into slices of that many
  characters.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


@dataclass
class Script:
    """One request's behaviour. Defaults give an instant, well-formed echo answer."""

    reply: str | None = None  # None: "Echo: <last user message>"
    chunk_chars: int = 0  # 0: one chunk per word
    delay: float = 0.0  # seconds slept before each content chunk (0: instant)
    fail_before_output: int | None = None  # answer this HTTP status with an error body
    error_message: str = "The server had an error while processing your request."
    rate_limit_retry_after: float | None = None  # 429 with a Retry-After header (seconds)
    rate_limit_retry_after_ms: int | None = None  # 429 with a retry-after-ms header
    cut_after: int | None = None  # drop the TCP connection after k content chunks
    midstream_error_after: int | None = None  # send an {"error": ...} event after k chunks
    hang: bool = False  # stop sending (connection kept open) after ``hang_after`` chunks
    hang_after: int = 0
    omit_usage: bool = False  # no usage chunk even when include_usage was asked for
    omit_done: bool = False  # end the body cleanly but without "data: [DONE]"
    transcript: str = "Hello from the fake transcriber."
    transcript_duration: float | None = 2.5  # None: no "duration" in verbose_json
    transcript_language: str = "english"
    # Call these tools instead of answering text: [{"name": ..., "arguments": "<json>"}]
    # (finish_reason "tool_calls"; streamed as OpenAI does, arguments in pieces).
    tool_calls: list[JSON] | None = None
    ignore_stream: bool = False  # answer a whole chat.completion even when asked to stream

    def chunks(self, messages: list[JSON]) -> list[str]:
        text = self.reply if self.reply is not None else echo(messages)
        if self.chunk_chars > 0:
            return [text[i : i + self.chunk_chars] for i in range(0, len(text), self.chunk_chars)]
        return re.findall(r"\s*\S+(?:\s+$)?", text)


def echo(messages: list[JSON]) -> str:
    users = [content_text(m.get("content")) for m in messages if m.get("role") == "user"]
    return f"Echo: {users[-1]}" if users else "Echo:"


def content_text(content: object) -> str:
    """A message's text, whether a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


# What the fake charges for one picture: OpenAI's fixed cost of a low-detail image.
IMAGE_PART_TOKENS = 85


def image_parts(content: object) -> int:
    if not isinstance(content, list):
        return 0
    return sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")


def prompt_tokens(messages: list[JSON]) -> int:
    return sum(
        len(content_text(m.get("content")).split())
        + 3
        + IMAGE_PART_TOKENS * image_parts(m.get("content"))
        for m in messages
    )


def usage(prompt: int, completion: int) -> JSON:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def logprobs(tokens: list[str]) -> JSON:
    """OpenAI's ``logprobs`` of a choice: one entry per token (deterministic figures)."""
    return {
        "content": [
            {"token": t, "logprob": -0.25, "bytes": list(t.encode()), "top_logprobs": []}
            for t in tokens
        ],
        "refusal": None,
    }


def tool_call(index: int, call: JSON) -> JSON:
    return {
        "index": index,
        "id": f"call_fake{index:04d}",
        "type": "function",
        "function": {"name": call["name"], "arguments": call.get("arguments", "{}")},
    }


_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
}


def error_body(status: int, message: str, param: str | None = None) -> JSON:
    kind, code = _ERROR_KINDS.get(status, ("server_error", None))
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def unsupported_max_tokens() -> JSON:
    """OpenAI's 400 body when a reasoning model (o1, o3, o4-mini, gpt-5...) is sent
    ``max_tokens``: the only 400 of its kind that carries a ``code``."""
    return {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        }
    }


def bad_key_message(given: str) -> str:
    """OpenAI's 401 text, which shows the wrong key masked."""
    shown = f"{given[:3]}{'*' * (len(given) - 7)}{given[-4:]}" if len(given) > 8 else "***"
    return f"Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys."


class Completion:
    """Builds the objects of one chat completion, streamed or whole."""

    def __init__(self, number: int, model: str, include_usage: bool) -> None:
        self.id = f"chatcmpl-fake{number:06d}"
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage

    def chunk(
        self,
        delta: JSON,
        finish_reason: str | None = None,
        index: int = 0,
        token_logprobs: JSON | None = None,
    ) -> JSON:
        choice = {
            "index": index,
            "delta": delta,
            "logprobs": token_logprobs,
            "finish_reason": finish_reason,
        }
        body: JSON = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [choice],
        }
        if self.include_usage:  # OpenAI sends "usage": null on every chunk but the last
            body["usage"] = None
        return body

    def usage_chunk(self, prompt: int, completion: int) -> JSON:
        body = self.chunk({})
        body["choices"] = []
        body["usage"] = usage(prompt, completion)
        return body

    def whole(
        self,
        text: str,
        finish_reason: str,
        prompt: int,
        completion: int,
        *,
        n: int = 1,
        calls: list[JSON] | None = None,
        token_logprobs: JSON | None = None,
    ) -> JSON:
        message: JSON = {"role": "assistant", "content": text, "refusal": None}
        if calls:
            message = {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [tool_call(i, c) for i, c in enumerate(calls)],
            }
        choices = [
            {
                "index": index,
                "message": message,
                "logprobs": token_logprobs,
                "finish_reason": finish_reason,
            }
            for index in range(n)
        ]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
            "usage": usage(prompt, completion * n),
        }
