"""Building the bolt ``AsyncApp`` with the Switchboard handlers, for HTTP or Socket Mode."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bots.bootstrap import App
from bots.slack.deps import SlackBot
from bots.slack.handlers import actions, commands, events

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"


def web_client(app: App) -> AsyncWebClient:
    settings = app.settings
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    base_url = settings.slack_api_url or DEFAULT_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=base_url)


def build(app: App, *, socket_mode: bool = False) -> tuple[AsyncApp, SlackBot]:
    """The bolt app (request verification on in HTTP mode) and the handlers' state."""
    settings = app.settings
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    if not socket_mode and not secret:
        raise ValueError("SLACK_SIGNING_SECRET is needed in HTTP mode")
    client = web_client(app)
    bolt = AsyncApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
    )
    bot = SlackBot(app, client, native=settings.slack_native_streaming)
    events.register(bolt, bot)
    commands.register(bolt, bot)
    actions.register(bolt, bot)

    @bolt.error
    async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        # The outer edge: a handler failed unexpectedly; Slack already has its ack.
        logger.error("slack: handler failed (%s)", type(error).__name__, exc_info=error)
        return None

    return bolt, bot
