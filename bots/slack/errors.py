"""Errors in one place: core errors as the person's words, Slack Web API errors as the
relay's (429 → ``PlatformRetryAfter``, the rest → ``DeliveryFailed``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bots.streaming import DeliveryFailed, PlatformRetryAfter
from bots.views import error_text
from core.errors import AccessBlocked, CoreError, DuplicateEvent, NotAllowed
from core.i18n import Translator

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 1.0


class MessageTooLong(DeliveryFailed):
    """Slack refused the text as ``msg_too_long``: it must go in smaller pieces."""


def describe(t: Translator, exc: CoreError) -> str:
    """What the person reads for a refused or failed request."""
    if isinstance(exc, NotAllowed):
        logger.info("refused: %s", exc.key)
    return error_text(t, exc)


def refusal(t: Translator, exc: CoreError) -> str | None:
    """What the person reads for a refused request; None for a redelivered event, which
    was answered the first time and gets nothing now."""
    if isinstance(exc, DuplicateEvent):
        logger.info("slack: duplicate event, not answered")
        return None
    if isinstance(exc, AccessBlocked) and exc.quiet:
        return None  # a blocked person in a channel: the channel hears nothing
    return describe(t, exc)


def api_error(error: SlackApiError) -> str:
    """Slack's error code (``msg_too_long``, ``ratelimited``...) or ``""``."""
    data = getattr(error.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "")
    return ""


def retry_after(error: SlackApiError) -> float | None:
    """Seconds to wait when Slack answered 429, else None."""
    if getattr(error.response, "status_code", None) != 429 and api_error(error) != "ratelimited":
        return None
    headers = getattr(error.response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(float(raw), 0.0) if raw is not None else DEFAULT_RETRY_AFTER_S
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S


@asynccontextmanager
async def mapped(what: str) -> AsyncIterator[None]:
    """Slack's errors as the relay's; callers catch the codes they handle first."""
    try:
        yield
    except SlackApiError as error:
        wait = retry_after(error)
        if wait is not None:
            raise PlatformRetryAfter(wait) from error
        code = api_error(error) or "error"
        failure = MessageTooLong if code == "msg_too_long" else DeliveryFailed
        raise failure(f"{what}: {code}") from error
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
        raise DeliveryFailed(f"{what}: {type(error).__name__}") from error
