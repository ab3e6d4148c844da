"""clean_text, and that every request and caller is cleaned as it is built (whichever
adapter builds it: Telegram, Discord, Slack, the API or the console)."""

from __future__ import annotations

import dataclasses

import pytest

from bots.json_body import MAX_DEPTH, BadBody, load_object
from core.services.requests import (
    Caller,
    ChatRequest,
    ImageRequest,
    SpeechRequest,
    TranscriptionRequest,
)
from core.text_input import clean_text
from core.types import IdentityKey
from tests.hostile_inputs import BODIES, TEXT_IDS, TEXTS, HostileBody, HostileText


@pytest.mark.parametrize("hostile", TEXTS, ids=TEXT_IDS)
def test_clean_text(hostile: HostileText) -> None:
    cleaned = clean_text(hostile.text)
    assert cleaned == hostile.clean
    cleaned.encode("utf-8")  # storable: no lone surrogate left
    assert "\x00" not in cleaned
    assert clean_text(cleaned) == cleaned  # idempotent


def test_clean_text_keeps_clean_text_as_is() -> None:
    text = "Hello, мир! 😀 \u202eRTL\u202c"
    assert clean_text(text) is text


def test_requests_and_callers_are_cleaned_as_built() -> None:
    caller = Caller(IdentityKey("console", "", "me"), display_name="Eve\x00\ud800", locale="e\x00n")
    assert (caller.display_name, caller.locale) == ("Eve\ufffd", "en")
    chat = ChatRequest(caller, "chat\x00", event_id="ev\x00", model="m\x00", text="a\x00b\udc00")
    assert (chat.chat_id, chat.event_id, chat.model, chat.text) == ("chat", "ev", "m", "ab\ufffd")
    assert ImageRequest(caller, "c", prompt="cat\x00").prompt == "cat"
    assert SpeechRequest(caller, "c", text="\ud83d\ude00\x00").text == "\U0001f600"
    assert TranscriptionRequest(caller, "c", filename="v\x00.ogg").filename == "v.ogg"
    assert dataclasses.replace(chat, text="again\x00").text == "again"


@pytest.mark.parametrize("hostile", [b for b in BODIES if b.content_type == "application/json"],
                         ids=lambda b: b.name)  # fmt: skip
def test_hostile_json_bodies_are_bad(hostile: HostileBody) -> None:
    with pytest.raises(BadBody):
        load_object(hostile.body)


def test_depth_limit_is_inclusive() -> None:
    ok = b'{"a":' * (MAX_DEPTH - 1) + b"{}" + b"}" * (MAX_DEPTH - 1)
    assert isinstance(load_object(ok), dict)
    with pytest.raises(BadBody, match="deep"):
        load_object(b'{"a":' * MAX_DEPTH + b"{}" + b"}" * MAX_DEPTH)
    assert load_object(b'{"id": 9223372036854775807}') == {"id": 2**63 - 1}
    with pytest.raises(BadBody, match="range"):
        load_object(b'{"id": 9223372036854775808}')
