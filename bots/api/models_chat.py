"""Bodies of the chat endpoints (/ask, /messages, /balance, /link, /models, /stats)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from bots.api.models import Answer, Body, Credits, Id, Maybe, OutcomeName, Time, Usage


class AskRequest(Body):
    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    model: Maybe[Annotated[str, Field(min_length=1, max_length=200)]] = None
    chat_id: Maybe[
        Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
    ] = None


class AskFilesFields(Body):
    """The text fields of ``POST /ask/files`` (the files are read apart, as bytes)."""

    text: Annotated[str, Field(max_length=100_000)] = ""
    model: Maybe[Annotated[str, Field(min_length=1, max_length=200)]] = None
    chat_id: Maybe[
        Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
    ] = None


_FILE: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}


class AskFilesForm(AskFilesFields):
    """``file`` may be repeated (up to 10): pictures and documents with one question."""

    file: Annotated[str, WithJsonSchema(_FILE)]


class Delta(Answer):
    """An SSE ``delta`` event of /ask."""

    text: str


class AskResult(Answer):
    request_id: Annotated[str, Field(max_length=100)]
    text: str
    outcome: OutcomeName
    usage: Usage
    charge: Credits
    charge_micro: int
    shortened: bool = Field(
        False, description="the output limit was cut to what the balance and MAX_OVERDRAFT pay for"
    )


class AskFilesResult(AskResult):
    """/ask/files' answer: /ask's, plus the notes on the files (a document was trimmed)."""

    notices: list[str]


class Exchange(Answer):
    id: Annotated[str, Field(max_length=100)]
    question: str
    answer: str
    created_at: Time | None
    account_id: Annotated[Id | None, Field(exclude_if=lambda v: v is None)] = None


class ExchangeList(Answer):
    items: list[Exchange]


# core.models_config.MODEL_KINDS: every Feature but files, which no model serves.
ModelKind = Literal["chat", "image", "tts", "stt", "embedding"]


class Model(Answer):
    name: Annotated[str, Field(max_length=200)]
    kind: ModelKind
    prices: dict[str, str]


class ModelList(Answer):
    items: list[Model]


class StatsRow(Answer):
    key: Annotated[str, Field(max_length=200)]
    requests: int
    prompt_tokens: int
    completion_tokens: int
    credits_micro: int
    errors: int


class Stats(Answer):
    today: dict[str, list[StatsRow]]
    month: dict[str, list[StatsRow]]


class Balance(Answer):
    balance: Credits
    balance_micro: int


class LinkCode(Answer):
    code: Annotated[str, Field(min_length=1, max_length=16)]
    expires_in: int


class LinkRequest(Body):
    code: Annotated[str, Field(min_length=1, max_length=16)]
