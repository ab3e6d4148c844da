"""Errors under /v1 in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``,
with the statuses the official SDKs turn into their exception classes (400
BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError,
429 RateLimitError, 422 UnprocessableEntityError, 5xx InternalServerError). ``errors.errors_middleware`` answers with
these for every path under /v1/, whichever handler raised."""

from __future__ import annotations

import math

from aiohttp import web
from pydantic import BaseModel

from core import errors as ce

V1_PREFIX = "/v1/"

# (status, type, code, param); the first matching class wins, so subclasses come first.
_CORE: list[tuple[type[ce.CoreError], int, str, str | None, str | None]] = [
    (ce.Unauthenticated, 401, "invalid_request_error", "invalid_api_key", None),
    (ce.InvalidCredentials, 401, "invalid_request_error", "invalid_api_key", None),
    (ce.Banned, 403, "permission_error", "account_banned", None),
    (ce.KeyModelNotAllowed, 403, "permission_error", "model_not_allowed_for_key", "model"),
    (ce.NotAllowed, 403, "permission_error", "model_not_allowed", "model"),
    (ce.UnknownModel, 404, "invalid_request_error", "model_not_found", "model"),
    (ce.NotFound, 404, "invalid_request_error", "not_found", None),
    # OpenAI says "no credits" this way; 402 has no class in the SDKs.
    (ce.InsufficientCredits, 429, "insufficient_quota", "insufficient_quota", None),
    # The key's own budget: the same "quota" refusal as an account without credits.
    (ce.KeyBudgetExhausted, 429, "insufficient_quota", "key_budget_exhausted", None),
    (ce.RateLimited, 429, "requests", "rate_limit_exceeded", None),
    (ce.TooManyInFlight, 429, "requests", "rate_limit_exceeded", None),
    (ce.UpstreamRateLimited, 429, "requests", "rate_limit_exceeded", None),
    (ce.EndpointUnsupported, 400, "invalid_request_error", "unsupported_endpoint", "model"),
    (ce.BadArgument, 400, "invalid_request_error", "invalid_value", None),
    # A count of stored files, not a rate: 400, which the SDKs do not retry (a 429 would
    # be retried in vain until the client deletes files).
    (ce.TooManyFiles, 400, "invalid_request_error", "too_many_files", "file"),
    # Well-formed but refused by a limit of ours the schema cannot express: 422, which
    # the SDKs raise as UnprocessableEntityError.
    (ce.InputTooLong, 422, "invalid_request_error", "input_too_long", None),
    (ce.EmptyInput, 422, "invalid_request_error", "empty_input", None),
    (ce.AudioTooLong, 422, "invalid_request_error", "audio_too_long", "file"),
    (ce.AudioTooLarge, 413, "invalid_request_error", "request_too_large", "file"),
    (ce.DuplicateEvent, 409, "invalid_request_error", "duplicate_request", None),
    (ce.IdempotencyConflict, 409, "invalid_request_error", "idempotency_conflict", None),
    (ce.ShuttingDown, 503, "server_error", "shutting_down", None),
    (ce.StorageUnavailable, 503, "server_error", "storage_unavailable", None),
    (ce.UpstreamTimeout, 504, "server_error", "upstream_timeout", None),
    (ce.UpstreamError, 502, "server_error", "upstream_error", None),
]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    error: OpenAIErrorDetail


def is_v1(request: web.Request) -> bool:
    return request.path.startswith(V1_PREFIX)


def kind_for(status: int) -> str:
    if status == 401:
        return "invalid_request_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "requests"
    return "server_error" if status >= 500 else "invalid_request_error"


def detail(exc: ce.CoreError, message: str) -> tuple[int, OpenAIErrorDetail]:
    """(status, error object) of a core error; ``message`` is its English text."""
    if isinstance(exc, ce.UpstreamRejected) and exc.status is not None:
        # The upstream refused the client's request: its own words, its own status.
        kind = exc.kind or kind_for(exc.status)
        return exc.status, OpenAIErrorDetail(
            message=exc.message, type=kind, param=exc.param, code=exc.code
        )
    for cls, status, kind, code, param in _CORE:
        if isinstance(exc, cls):
            return status, OpenAIErrorDetail(message=message, type=kind, param=param, code=code)
    return 500, OpenAIErrorDetail(message="internal error", type="server_error")


def retry_after(exc: ce.CoreError) -> str | None:
    """Seconds, for every 429 of ours or the upstream's (at least 1)."""
    if isinstance(exc, ce.UpstreamRateLimited):
        return str(max(1, math.ceil(exc.retry_after or 1)))
    if isinstance(exc, ce.RateLimited):
        given = exc.params.get("retry_after", "1")
        return given if given.isdigit() and int(given) > 0 else "1"
    if isinstance(exc, ce.TooManyInFlight):
        return "1"  # a slot frees when one of the caller's requests ends
    return None


def response(
    status: int, error: OpenAIErrorDetail, headers: dict[str, str] | None = None
) -> web.Response:
    error.message = error.message[:2000]
    body = OpenAIError(error=error).model_dump_json()
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def core_response(exc: ce.CoreError, message: str) -> web.Response:
    status, error = detail(exc, message)
    wait = retry_after(exc)
    return response(status, error, {"Retry-After": wait} if wait else None)


def plain_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """An error of the API itself (a bad body, an unknown path, a wrong method)."""
    return response(
        status, OpenAIErrorDetail(message=message, type=kind_for(status), code=code), headers
    )


def stream_error(exc: ce.CoreError, message: str) -> bytes:
    """The data event that ends a /v1 stream the upstream failed after it opened."""
    _status, error = detail(exc, message)
    return f"data: {OpenAIError(error=error).model_dump_json()}\n\n".encode()
