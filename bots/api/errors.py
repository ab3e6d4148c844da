"""Every error of the API in one place: core errors and HTTP errors become
``{"error": {"code", "message"}}`` with the right status; nothing else leaks out. Under
/v1/ the same errors take OpenAI's shape and statuses (``errors_openai``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from bots.api import errors_openai as v1
from bots.api.models import Error, ErrorDetail
from bots.views import error_text
from core import errors as ae
from core import errors as ce
from core.i18n import Translator

logger = logging.getLogger(__name__)

# (status, code); the first matching class wins, so subclasses come before their bases.
_CORE: list[tuple[type[ce.CoreError], int, str]] = [
    (ae.Unauthenticated, 401, "unauthenticated"),
    (ae.InvalidCredentials, 401, "invalid_credentials"),
    (ae.TooManyLogins, 429, "too_many_logins"),
    (ae.UsernameTaken, 409, "username_taken"),
    (ae.IdempotencyConflict, 409, "idempotency_conflict"),
    (ae.NotFound, 404, "not_found"),
    (ce.Banned, 403, "banned"),
    (ce.PrivateBot, 403, "private_bot"),
    (ce.AccessBlocked, 403, "access_blocked"),
    (ce.InviteInvalid, 404, "invite_invalid"),
    (ce.KeyModelNotAllowed, 403, "model_not_allowed_for_key"),
    (ce.NotAllowed, 403, "forbidden"),
    (ce.InsufficientCredits, 402, "insufficient_credits"),
    (ce.KeyBudgetExhausted, 402, "key_budget_exhausted"),
    (ce.RateLimited, 429, "rate_limited"),
    (ce.TooManyInFlight, 429, "too_many_in_flight"),
    (ce.TooManyFiles, 400, "too_many_files"),
    (ce.InputTooLong, 422, "input_too_long"),
    (ce.AudioTooLarge, 413, "audio_too_large"),
    (ce.AudioTooLong, 422, "audio_too_long"),
    (ce.FileTooLarge, 413, "file_too_large"),
    (ce.UnsupportedFile, 422, "unsupported_file"),
    (ce.BadImage, 422, "bad_image"),
    (ce.BadDocument, 422, "bad_document"),
    (ce.DocumentTooManyPages, 422, "document_too_many_pages"),
    (ce.DocumentHasNoText, 422, "document_no_text"),
    (ce.VisionUnsupported, 422, "vision_unsupported"),
    (ce.VisionUnavailable, 422, "vision_unavailable"),
    (ce.EmptyInput, 422, "empty_input"),
    (ce.UnknownModel, 404, "model_not_found"),
    (ce.UnknownUser, 404, "user_not_found"),
    (ce.BadArgument, 422, "bad_argument"),
    (ce.DuplicateEvent, 409, "duplicate_request"),
    (ce.LinkCodeInvalid, 404, "link_code_invalid"),
    (ce.AlreadyLinked, 409, "already_linked"),
    (ce.EndpointUnsupported, 400, "unsupported_endpoint"),
    (ce.ShuttingDown, 503, "shutting_down"),
    (ce.StorageUnavailable, 503, "storage_unavailable"),
    (ce.UpstreamRateLimited, 503, "upstream_rate_limited"),
    (ce.UpstreamTimeout, 504, "upstream_timeout"),
    (ce.UpstreamBadRequest, 502, "upstream_rejected"),
    (ce.UpstreamError, 502, "upstream_error"),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}

ERROR_STATUSES = (400, 401, 402, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(exc: ValidationError, where: str) -> ApiError:
    """A body or parameter that does not match its model: 400, naming the first problem."""
    first = exc.errors(include_url=False, include_input=False)[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    if first["type"] == "json_invalid":
        return ApiError(400, "bad_request", "the body is not valid JSON")
    return ApiError(400, "bad_request", f"{where}{path}: {first['msg']}")


def error_body(code: str, message: str) -> Error:
    return Error(error=ErrorDetail(code=code, message=message[:2000]))


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = error_body(code, message).model_dump_json()
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def core_error(exc: ce.CoreError) -> tuple[int, str, str]:
    """(status, code, message in English) for a core error."""
    status, code = next(
        ((s, c) for kind, s, c in _CORE if isinstance(exc, kind)), (500, "internal")
    )
    return status, code, error_text(Translator("en"), exc)


def core_error_response(exc: ce.CoreError) -> web.Response:
    status, code, message = core_error(exc)
    headers = {}
    retry = exc.params.get("retry_after")
    if status in (429, 503) and retry and retry.isdigit() and int(retry) > 0:
        headers["Retry-After"] = retry
    return error_response(status, code, message, headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    openai = v1.is_v1(request)
    try:
        return await handler(request)
    except ApiError as exc:
        if openai:
            return v1.plain_response(exc.status, exc.code, exc.message)
        return error_response(exc.status, exc.code, exc.message)
    except ce.CoreError as exc:
        if openai:
            return v1.core_response(exc, error_text(Translator("en"), exc))
        return core_error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        if openai:
            message = (
                f"Invalid URL ({request.method} {request.path})" if exc.status == 404 else None
            )
            return v1.plain_response(exc.status, code, message or exc.reason or code, headers)
        return error_response(exc.status, code, exc.reason or code, headers)
    except Exception:  # the edge of every request: log it, answer JSON
        logger.exception("unhandled error in %s %s", request.method, request.path)
        if openai:
            return v1.plain_response(500, "internal", "internal error")
        return error_response(500, "internal", "internal error")
