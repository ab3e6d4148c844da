"""The Slack end-to-end stack: the fake LLM, the fake Slack Web API, the real app on a
database, the real bolt ``AsyncApp`` served over HTTP, and a poster of signed requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bots.bootstrap import App, open_app
from bots.settings import Settings
from bots.slack.app import build
from bots.slack.deps import SlackDeps
from bots.slack.runner import http_server
from tests.fakes.llm_server import FakeLLM
from tests.fakes.slack_events import SlackPoster
from tests.fakes.slack_server import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.known_secrets import TEST_API_KEY

TEAM = "T0TEAM"
ADMIN = "UADMIN"
ALICE = "UALICE"
BOB = "UBOB"
CHANNEL = "C0GENERAL"
DM = "D0ALICE"


@dataclass
class SlackStack:
    llm: FakeLLM
    slack: FakeSlack
    app: App
    deps: SlackDeps
    poster: SlackPoster

    async def mention(self, text: str, *, user: str = ALICE, **kw: Any) -> dict[str, Any]:
        """A person mentions the bot at the top of the channel; returns the event."""
        message = self.slack.post_user_message(CHANNEL, user, f"<@{self.slack.bot_user_id}> {text}")
        event = {
            "type": "app_mention",
            "user": user,
            "text": message.text,
            "ts": message.ts,
            "channel": CHANNEL,
            "team": TEAM,
            "event_ts": message.ts,
        }
        answer = await self.poster.event(event, **kw)
        assert answer.status == 200, answer
        return event

    def message_event(
        self, text: str, *, user: str = ALICE, channel: str = DM, thread_ts: str | None = None
    ) -> dict[str, Any]:
        message = self.slack.post_user_message(channel, user, text, thread_ts)
        event: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": message.ts,
            "channel": channel,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "team": TEAM,
            "event_ts": message.ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event


def settings_for(database_url: str, llm: FakeLLM, slack: FakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": None,
        "openai_base_url": llm.base_url,
        "openai_api_key": TEST_API_KEY,
        "bot_admins": f"slack:{TEAM}/{ADMIN}",
        "welcome_credits": "100",
        "slack_bot_token": slack.token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.base_url,
        "slack_edit_interval": 0.2,
        "slack_updates_per_minute": 600.0,
        "slack_stream_calls_per_minute": 1200.0,
        "rate_limits": "guest:1000/50,user:1000/50,admin:1000/50",
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def slack_stack(
    database_url: str, *, fake: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[SlackStack]:
    async with (
        FakeLLM(api_key=TEST_API_KEY) as llm,
        FakeSlack(token=BOT_TOKEN, **(fake or {})) as slack,
    ):
        for user, name in ((ADMIN, "admin"), (ALICE, "alice"), (BOB, "bob")):
            slack.add_user(user, name, is_admin=user == BOB)  # Bob: a *workspace* admin
        async with open_app(settings_for(database_url, llm, slack, **settings)) as app:
            bolt, deps = build(app)
            async with http_server(bolt, "127.0.0.1", 0, "/slack/events") as port:
                url = f"http://127.0.0.1:{port}/slack/events"
                async with SlackPoster(url, SIGNING_SECRET, response_url=slack.hook_url) as poster:
                    yield SlackStack(llm, slack, app, deps, poster)


async def eventually(check: Callable[[], Any], within: float = 30.0, what: str = "") -> Any:
    """Poll until ``check()`` is truthy (handlers run after the ack)."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


async def settle(seconds: float = 0.3) -> None:
    """Let background handlers finish whatever they would do."""
    await asyncio.sleep(seconds)
