"""Errors of the HTTP API's use cases (``CoreError`` subclasses; keys in the ``[api]``
sections of the catalogs)."""

from __future__ import annotations

from core.errors import CoreError


class Unauthenticated(CoreError):
    """A missing, malformed, expired or revoked token or API key."""

    key = "api.unauthenticated"


class InvalidCredentials(CoreError):
    key = "api.invalid_credentials"


class TooManyLogins(CoreError):
    key = "api.too_many_logins"  # params: retry_after


class UsernameTaken(CoreError):
    key = "api.username_taken"


class IdempotencyConflict(CoreError):
    """The Idempotency-Key was used before with a different request."""

    key = "api.idempotency_conflict"


class NotFound(CoreError):
    key = "api.not_found"
