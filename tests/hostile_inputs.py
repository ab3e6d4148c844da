"""The hostile inputs every adapter's tests sweep, in one place.

``TEXTS`` are questions a person can send on any platform: each must be answered normally
with its text cleaned (``core.text_input.clean_text``), charged once, the hold settled.
``BODIES`` are HTTP bodies for JSON endpoints (the Telegram webhook, Slack events, the API):
each must be refused with a clear 4xx before anything is reserved. Neither may leave a
traceback in the logs or an open hold in the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from core.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class HostileText:
    name: str
    text: str
    clean: str  # what the core (and so the model) sees
    # A strict JSON parser (pydantic's, as the API uses) refuses a lone surrogate escape
    # with 400; json.loads (aiogram, bolt, discord.py) takes it and the core cleans it.
    lone_surrogate: bool = False


TEXTS = [
    HostileText("nul", "before\x00after", "beforeafter"),
    HostileText("only-nul", "ask\x00\x00\x00", "ask"),
    HostileText("lone-high-surrogate", "broken \ud83d emoji", "broken \ufffd emoji", True),
    HostileText("lone-low-surrogate", "\ude00 tail", "\ufffd tail", True),
    HostileText("escaped-pair", "pair \ud83d\ude00", "pair \U0001f600"),
    HostileText("bidi", "abc \u202edcba\u202c \u2066x\u2069", "abc \u202edcba\u202c \u2066x\u2069"),
    HostileText(
        "zero-width", "zero\u200bwidth\u200d\ufeff\u2060", "zero\u200bwidth\u200d\ufeff\u2060"
    ),
    HostileText("controls", "tab\tbell\x07esc\x1b[31m", "tab\tbell\x07esc\x1b[31m"),
    HostileText("combining", "e" + "\u0301" * 200, "e" + "\u0301" * 200),
]

TEXT_IDS = [t.name for t in TEXTS]

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000


@dataclass(frozen=True)
class HostileBody:
    name: str
    body: bytes
    content_type: str = "application/json"


# Bodies that no JSON endpoint can take; each adapter adds its own "wrong shape".
BODIES = [
    HostileBody("invalid-utf8", b'{"text": "\xff\xfe\xc3("}'),
    HostileBody("latin1", '{"text": "caf\u00e9"}'.encode("latin-1")),
    HostileBody("not-json", b"hello there"),
    HostileBody("truncated", b'{"update_id": 1, "message": {'),
    HostileBody("empty", b""),
    HostileBody("whitespace", b"  \n "),
    HostileBody("null", b"null"),
    HostileBody("array", b"[1, 2, 3]"),
    HostileBody("string", b'"just a string"'),
    HostileBody("deep-array", DEEP),
    HostileBody("deep-object", DEEP_OBJECT),
    HostileBody("huge-integer", b'{"update_id": 1' + b"0" * 5_000 + b"}"),
    HostileBody("infinite-float", b'{"update_id": 1e999}'),
    HostileBody("nan", b'{"update_id": NaN}'),
    HostileBody("wrong-content-type", b'{"update_id": 1}', "text/plain"),
    HostileBody("form-content-type", b"update_id=1", "application/x-www-form-urlencoded"),
]

BODY_IDS = [b.name for b in BODIES]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records that carry a traceback (or name an unretrieved task exception)."""
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.exc_info or "Task exception was never retrieved" in r.getMessage()
    ]


def watch_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


async def open_holds(uow: UnitOfWorkFactory) -> list[str]:
    """The request ids of holds not settled yet (any age)."""
    async with uow() as tx:
        holds = await tx.ledger.open_holds(datetime.now(UTC) + timedelta(days=1))
    return [h.request_id or "?" for h in holds]
