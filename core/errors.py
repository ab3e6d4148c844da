"""Typed errors of the core. Each carries a message key into the catalogs (core.i18n)
and the parameters that message needs; adapters map them to a reply in one place."""

from __future__ import annotations


class CoreError(Exception):
    key = "error.internal"

    def __init__(self, **params: object) -> None:
        self.params = {name: str(value) for name, value in params.items()}
        super().__init__(f"{self.key} {self.params}" if self.params else self.key)


class Banned(CoreError):
    key = "error.banned"


class NotAllowed(CoreError):
    """The account's role may not do this (admin command, model not for this role)."""

    key = "error.not_allowed"


class InsufficientCredits(CoreError):
    key = "error.insufficient_credits"  # params: balance


class KeyBudgetExhausted(CoreError):
    """The API key's own budget cannot cover this request's worst-case cost."""

    key = "error.key_budget_exhausted"


class KeyModelNotAllowed(NotAllowed):
    """The API key's owner did not allow this model on the key."""

    key = "error.key_model_not_allowed"  # params: model


class RateLimited(CoreError):
    key = "error.rate_limited"  # params: retry_after (seconds)


class TooManyInFlight(CoreError):
    key = "error.too_many_in_flight"  # params: limit


class TooManyFiles(CoreError):
    """The account keeps as many /v1 files as it may (GATEWAY_FILES_PER_ACCOUNT): an
    upload is refused until it deletes some. Not a rate: waiting does not help."""

    key = "error.too_many_files"  # params: limit


class InputTooLong(CoreError):
    key = "error.input_too_long"  # params: length, limit


class AudioTooLarge(CoreError):
    key = "error.audio_too_large"  # params: size_mb, limit_mb


class AudioTooLong(CoreError):
    key = "error.audio_too_long"  # params: seconds, limit


class EmptyInput(CoreError):
    key = "error.empty_input"


class UnknownModel(CoreError):
    key = "error.unknown_model"  # params: model


class UnknownUser(CoreError):
    key = "error.unknown_user"  # params: user


class BadArgument(CoreError):
    key = "error.bad_argument"  # params: detail


class LinkCodeInvalid(CoreError):
    key = "error.link_code_invalid"


class AlreadyLinked(CoreError):
    key = "error.already_linked"


class DuplicateEvent(CoreError):
    """This platform event was already handled; adapters answer nothing."""

    key = "error.duplicate_event"


class ShuttingDown(CoreError):
    """This worker is stopping; nothing was charged, the person may simply ask again."""

    key = "error.shutting_down"


class StorageUnavailable(CoreError):
    key = "error.storage_unavailable"


class UnsupportedFile(CoreError):
    """A file of a kind the request cannot use (not audio where audio was expected)."""

    key = "error.unsupported_file"


class FileTooLarge(CoreError):
    """A picture or document over its size setting, refused before it is downloaded."""

    key = "error.file_too_large"  # params: size_mb, limit_mb


class BadImage(CoreError):
    """Not a picture Pillow can read (corrupt, truncated, or absurdly many pixels)."""

    key = "error.bad_image"


class BadDocument(CoreError):
    """A document that cannot be read (a broken or encrypted PDF, binary in a text file)."""

    key = "error.bad_document"  # params: name


class DocumentTooManyPages(CoreError):
    key = "error.document_too_many_pages"  # params: pages, limit


class DocumentHasNoText(CoreError):
    """A PDF whose pages carry no text layer: a scan, which would need OCR."""

    key = "error.document_no_text"  # params: name


class VisionUnsupported(CoreError):
    """A picture was sent while the chosen chat model takes text only; ``vision_model``
    names a model in the models file that can (or "-" when none is allowed)."""

    key = "error.vision_unsupported"  # params: model, vision_model


class VisionUnavailable(CoreError):
    """A picture was sent and no chat model this person may use takes pictures."""

    key = "error.vision_unavailable"  # params: model


class DownloadFailed(CoreError):
    """The platform would not hand over a file the person sent (nothing was charged)."""

    key = "telegram.download_failed"


class UpstreamError(CoreError):
    """The model server failed. ``status`` is its HTTP status when it answered one; whether
    text came before the failure is the chat use case's to judge, not the error's."""

    key = "error.upstream_unavailable"

    def __init__(self, detail: str = "", *, status: int | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.status = status

    def __str__(self) -> str:
        return f"{self.key} status={self.status} {self.detail}".strip()


class UpstreamRateLimited(UpstreamError):
    key = "error.upstream_rate_limited"

    def __init__(self, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(detail, status=429)
        self.retry_after = retry_after
        self.params = {"retry_after": str(int(retry_after or 0))}


class UpstreamTimeout(UpstreamError):
    key = "error.upstream_timeout"


class UpstreamBadRequest(UpstreamError):
    """The upstream refused the input itself (4xx other than 429): not worth a fallback."""

    key = "error.upstream_rejected"


class EndpointUnsupported(CoreError):
    """The model's provider does not offer this endpoint (its models file entry says so,
    or the server answered the route with a bare 404/405): nothing was charged."""

    key = "error.endpoint_unsupported"  # params: endpoint, model


class UpstreamRejected(UpstreamBadRequest):
    """A 4xx of the upstream that a pass-through client should see as it was: its
    ``error`` object's fields (the upstream's key scrubbed from the message)."""

    def __init__(
        self,
        detail: str,
        *,
        status: int,
        message: str,
        kind: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail, status=status)
        self.message, self.kind, self.param, self.code = message, kind, param, code


# ---- signing in and the HTTP API's own refusals (keys in the [api] catalog sections) ----


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


class UnknownPersona(CoreError):
    key = "error.unknown_persona"  # params: persona


class NothingToRetry(CoreError):
    """/retry with no interrupted question on offer in that chat (or taken already)."""

    key = "error.nothing_to_retry"


class PrivateBot(CoreError):
    """Closed mode: this person is not on any list and has no account; none is created."""

    key = "error.private_bot"


class AccessBlocked(CoreError):
    """A person or chat on the blocklist. ``quiet`` (in groups): adapters say nothing."""

    key = "error.access_blocked"

    def __init__(self, *, quiet: bool = False) -> None:
        super().__init__()
        self.quiet = quiet


class InviteInvalid(CoreError):
    key = "error.invite_invalid"
