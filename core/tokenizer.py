"""Counting tokens offline, with a real BPE tokenizer.

``tiktoken`` downloads its encoding files at run time, which fails offline; the
``bpe-openai`` package (MIT, GitHub's ``bpe-openai`` Rust crate) ships ``o200k_base``
(GPT-4o and later) and ``cl100k_base`` inside its wheel, so counting needs no network.
Every upstream is counted with ``o200k_base``: for other model families it is an
estimate of the same order (reservations are settled from the upstream's own usage).

The encoding takes under a second to load; ``warm`` loads it ahead (the composition root
calls it in a thread) so no request pays that on the event loop."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable

import bpe_openai

ENCODING = "o200k_base"
# OpenAI's chat format frames each message with a few tokens (role, separators).
PER_MESSAGE = 4
# What one image part costs a vision model at most in OpenAI's tiling (a 2048x768 "high"
# image is 1,105 tokens; larger ones are scaled down to that order): a worst case for
# the reservation, since the image itself is not looked at here.
PER_IMAGE = 1105
# Audio parts: OpenAI bills about 10 tokens a second; a part is counted as a minute.
PER_AUDIO = 600
PIECE = 40_000


@functools.cache
def _encoding() -> bpe_openai.Encoding:
    return bpe_openai.get_encoding(ENCODING)


def warm() -> None:
    """Load the encoding now (blocking; call it in a thread)."""
    _encoding()


def count_tokens(text: str) -> int:
    """The number of tokens of ``text`` (special-token text counts as ordinary text).

    Counted in pieces: the package refuses 1,000,000 characters or 200,000 tokens in one
    call, and a piece of ``PIECE`` characters stays under both even at 4 tokens a
    character. Pieces end at a space where one is near, so the sum is the whole's count
    (a word cut in two would count a token more)."""
    if not text:
        return 0
    encoding, total, start = _encoding(), 0, 0
    while start < len(text):
        end = min(start + PIECE, len(text))
        if end < len(text):
            space = text.rfind(" ", start + PIECE // 2, end)
            end = space if space > start else end
        total += len(encoding.encode_ordinary(text[start:end]))
        start = end
    return total


def count_json(value: object) -> int:
    """Tokens of a JSON value as the model reads it (tool definitions, schemas)."""
    if value is None:
        return 0
    return count_tokens(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def count_message(message: object) -> int:
    """Tokens of one chat message: its text, its content parts, its tool calls."""
    if not isinstance(message, dict):
        return PER_MESSAGE
    total = PER_MESSAGE
    for key, value in message.items():
        if key == "content":
            total += _count_content(value)
        elif key == "tool_calls" or key == "function_call":
            total += count_json(value)
        elif isinstance(value, str) and key != "role":
            total += count_tokens(value)  # name, tool_call_id, refusal
    return total


def count_messages(messages: Iterable[object]) -> int:
    return sum(count_message(m) for m in messages)


def _count_content(content: object) -> int:
    if isinstance(content, str):
        return count_tokens(content)
    if not isinstance(content, list):
        return count_json(content)
    total = 0
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "image_url":
            total += PER_IMAGE
        elif kind == "input_audio":
            total += PER_AUDIO
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            total += count_tokens(part["text"])
        else:
            total += count_json(part)
    return total
