"""Turning an upstream's failures into the core's typed errors, without leaking secrets.

Error details may carry the upstream's own ``error.message`` (useful in logs and for
admins), but never request headers: the API key is scrubbed even from upstream text,
because some servers echo part of a bad key back."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from core.errors import (
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
)

_BAD_REQUEST = frozenset({400, 404, 413, 422})
_MAX_DETAIL = 300


def redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return text


def upstream_message(body: bytes) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the start of the body."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body[:_MAX_DETAIL].decode("utf-8", errors="replace").strip()
    return error_message(payload)


def error_message(payload: object) -> str:
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            message = error.get("message") or error.get("code") or error.get("type")
            if message is not None:
                return str(message)
        elif isinstance(error, str):
            return error
    return json.dumps(payload)[:_MAX_DETAIL]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI's precise one) or ``Retry-After``
    (seconds or an HTTP date)."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    seconds = _number(value)
    if seconds is not None or not value:
        return None if seconds is None else max(0.0, seconds)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _number(value: str | None) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def status_error(
    status: int, body: bytes, headers: Mapping[str, str], secret: str | None
) -> UpstreamError:
    detail = f"HTTP {status}: {redact(upstream_message(body), secret)}"[:_MAX_DETAIL]
    if status == 429:
        return UpstreamRateLimited(detail, retry_after=retry_after(headers))
    if status in _BAD_REQUEST:
        return rejected(status, body, detail, secret)
    return UpstreamError(detail, status=status)


def transport_error(exc: BaseException, secret: str | None) -> UpstreamError:
    """A failure below HTTP: timeouts become ``UpstreamTimeout``, the rest ``UpstreamError``."""
    text = redact(str(exc), secret)[:_MAX_DETAIL]
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout(detail)
    return UpstreamError(detail)


def rejected(status: int, body: bytes, detail: str, secret: str | None) -> UpstreamRejected:
    """A 4xx with the fields of the upstream's ``error`` object, for a client that should
    see it as the upstream said it."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    fields = error if isinstance(error, dict) else {}

    def text(name: str) -> str | None:
        value = fields.get(name)
        return redact(str(value), secret)[:2000] if value is not None else None

    return UpstreamRejected(
        detail,
        status=status,
        message=text("message") or redact(upstream_message(body), secret)[:2000],
        kind=text("type"),
        param=text("param"),
        code=text("code"),
    )
