"""Hostile input on the Slack events endpoint, signed correctly so that bolt's handlers
see it: bodies that are not an event are refused with a 4xx; DMs with NUL, lone
surrogates, bidi or zero-width characters are answered with the text cleaned, charged
once, no hold left open, no traceback logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from tests.e2e.slack_harness import ALICE, DM, SlackStack, eventually, settle, slack_stack
from tests.fakes.slack_server import SIGNING_SECRET
from tests.hostile_inputs import BODIES, TEXTS, open_holds, tracebacks, watch_logs

# Refused: bolt would fail on them, or has no handler for them.
WRONG_SHAPES: list[Any] = [
    {},
    {"type": "something_else"},
    {"type": "event_callback"},  # no event
    {"type": "event_callback", "event": "text"},
    {"type": "event_callback", "event": ["a"]},
    {"type": "event_callback", "event": {"type": "message", "text": 5, "channel": DM}},
    {"type": "event_callback", "event": {"type": "message", "user": ["x"], "text": "hi"}},
    {"type": "event_callback", "event": {"type": "app_mention", "text": None, "user": 7}},
]


async def post_signed(s: SlackStack, body: bytes, content_type: str) -> tuple[int, str]:
    """``body`` exactly as given, with a valid Slack signature over its bytes."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    assert s.poster.session is not None
    async with s.poster.session.post(s.poster.url, data=body, headers=headers) as response:
        return response.status, await response.text()


def answers(s: SlackStack) -> list[str]:
    return [m.text for m in s.slack.bot_messages(DM) if not m.streaming and not m.blocks]


@pytest.mark.postgres
async def test_hostile_slack_events(pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    watch_logs(caplog)
    async with slack_stack(pg_url) as s:
        bodies = [(b.name, b.body, b.content_type) for b in BODIES] + [
            (f"shape {shape}", json.dumps(shape).encode(), "application/json")
            for shape in WRONG_SHAPES
        ]
        for name, body, content_type in bodies:
            status, text = await post_signed(s, body, content_type)
            assert 400 <= status < 500, (name, status, text)
        await settle()
        assert s.slack.bot_messages(DM) == []
        assert s.llm.requests_to("/chat/completions") == []

        for n, hostile in enumerate(TEXTS):
            event = s.message_event(hostile.text, user=ALICE, channel=DM)
            answer = await s.poster.event(event)  # json.dumps: a lone surrogate as \ud800
            assert answer.status == 200, hostile.name
            await eventually(lambda n=n: len(answers(s)) > n, what=hostile.name)
        await settle()
        assert answers(s) == [f"Echo: {h.clean}" for h in TEXTS]
        assert await open_holds(s.app.uow) == []
    assert tracebacks(caplog) == []
