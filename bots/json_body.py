"""JSON bodies from the outside world, checked before any handler sees them.

The Telegram webhook and the Slack events endpoint hand their bodies to SDKs (aiogram,
bolt) that assume a well-formed JSON object: invalid UTF-8, a syntax error, nesting deep
enough to exhaust the recursion limit or an integer of thousands of digits becomes a 500
with a traceback there. ``load_object`` turns each of those into ``BadBody``, whose message
says why in a few words (never quoting the body), for the endpoint to answer 400."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "BadBody", "load_object"]

# Real platform payloads nest a dozen levels at most (a reply to a message with a keyboard,
# Slack blocks in an attachment…).
MAX_DEPTH = 64
# Platform ids and counters fit in a signed 64-bit integer.
_MAX_INT = 2**63 - 1
_MAX_FLOAT = 1e300


class BadBody(ValueError):
    """A body that is not a JSON object the endpoint can take; the message says why."""


def check_shape(value: object, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``max_depth`` and numbers no platform sends."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise BadBody("nested too deep")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int) and not -_MAX_INT - 1 <= item <= _MAX_INT:
            raise BadBody("a number out of range")
        elif isinstance(item, float) and not -_MAX_FLOAT < item < _MAX_FLOAT:  # inf, nan
            raise BadBody("a number out of range")


def decode(body: bytes) -> str:
    """The body as text: UTF-8 and not blank, else ``BadBody``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("not UTF-8") from None
    if not text.strip():
        raise BadBody("empty body")
    return text


def load_object(body: bytes | str) -> dict[str, Any]:
    """The JSON object in ``body``, checked by ``check_shape``, or ``BadBody``."""
    text = decode(body) if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadBody("nested too deep") from None
    except ValueError:  # not JSON, or an integer of thousands of digits
        raise BadBody("not JSON") from None
    if not isinstance(data, dict):
        raise BadBody("not a JSON object")
    check_shape(data)
    return data
