"""Building the bolt ``AsyncApp`` for HTTP or Socket Mode: the Web API client, the
handlers' ``SlackDeps``, and every listener registered here, explicitly."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bots.settings import Settings
from bots.slack.deps import BotThreads, NativeStreaming, Pacers, People, SlackDeps
from bots.slack.handlers import actions, commands, events
from bots.slack.render import BROADCAST_ACTION, STOP_ACTION

if TYPE_CHECKING:  # the composition root is handed in, never imported at run time
    from bots.bootstrap import App

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
FLAGS_NAMESPACE = "slack:"


def web_client(settings: Settings) -> AsyncWebClient:
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    base_url = settings.slack_api_url or DEFAULT_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=base_url)


def deps_for(app: App, client: AsyncWebClient) -> SlackDeps:
    settings = app.settings
    return SlackDeps(
        core=app.core,
        client=client,
        settings=settings,
        pacers=Pacers(app.pacer, settings),
        people=People(client),
        threads=BotThreads(app.kv.flags(FLAGS_NAMESPACE), client),
        streaming=NativeStreaming(settings.slack_native_streaming),
    )


def build(app: App, *, socket_mode: bool = False) -> tuple[AsyncApp, SlackDeps]:
    """The bolt app (request verification on in HTTP mode) and the handlers' deps."""
    settings = app.settings
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    if not socket_mode and not secret:
        raise ValueError("SLACK_SIGNING_SECRET is needed in HTTP mode")
    client = web_client(settings)
    bolt = AsyncApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
    )
    deps = deps_for(app, client)
    bolt.event("app_mention")(events.on_mention(deps))
    bolt.event("message")(events.on_message(deps))
    for name in commands.SLASH_COMMANDS:
        bolt.command(f"/{name}")(commands.on_command(deps))
    bolt.action(STOP_ACTION)(actions.on_stop(deps))
    bolt.action(BROADCAST_ACTION)(actions.on_broadcast_send(deps))
    bolt.error(on_error)
    return bolt, deps


async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
    # The outer edge: a handler failed unexpectedly; Slack already has its ack.
    logger.error("slack: handler failed (%s)", type(error).__name__, exc_info=error)
    return None
