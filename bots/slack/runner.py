"""Running the Slack adapter: Socket Mode when ``SLACK_APP_TOKEN`` is set, else an HTTP
endpoint (``SLACK_HOST``:``SLACK_PORT`` + ``SLACK_PATH``) whose requests bolt verifies
(a bad signature or a timestamp over 300 s off is answered 401 and not processed)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bots.json_body import BadBody, decode, load_object
from bots.slack.app import build
from bots.slack.messenger import SlackMessenger
from bots.slack.notices import SlackInterruptionNotices

if TYPE_CHECKING:  # the composition root is handed in, never imported at run time
    from bots.bootstrap import App

logger = logging.getLogger(__name__)


# Fields Slack always sends as strings, which bolt and the handlers read as such.
_EVENT_STRINGS = ("type", "subtype", "user", "bot_id", "channel", "channel_type", "team",
                  "text", "ts", "thread_ts", "event_ts")  # fmt: skip


def check_body(body: bytes, content_type: str) -> None:
    """``BadBody`` for what bolt would fail on with a 500: a body that is not UTF-8, a JSON
    body that is not an object (or an event callback whose event is not one), a form whose
    ``payload`` is not a JSON object."""
    if content_type == "application/json":
        data = load_object(body)
        if data.get("type") == "event_callback":
            event = data.get("event")
            if not isinstance(event, dict):
                raise BadBody("an event callback without an event")
            if any(not isinstance(event.get(k, ""), str) for k in _EVENT_STRINGS):
                raise BadBody("an event with a field of the wrong type")
    elif content_type == "application/x-www-form-urlencoded":
        form = parse_qs(decode(body))
        for payload in form.get("payload", []):
            load_object(payload)
    else:
        decode(body)


def web_app(bolt: AsyncApp, path: str) -> web.Application:
    async def dispatch(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            check_body(body, request.content_type)
        except BadBody as refused:
            logger.warning("slack: refused a body of %d bytes: %s", len(body), refused)
            return web.json_response({"error": str(refused)}, status=400)
        retry = request.headers.get("X-Slack-Retry-Num")
        if retry is not None:
            logger.info(
                "slack: redelivery #%s (%s)", retry, request.headers.get("X-Slack-Retry-Reason")
            )
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application(client_max_size=4 * 1024 * 1024)
    application.router.add_post(path, dispatch)
    application.router.add_get("/healthz", health)
    return application


@asynccontextmanager
async def http_server(bolt: AsyncApp, host: str, port: int, path: str) -> AsyncIterator[int]:
    """Serve bolt over HTTP; yields the bound port (``port`` 0 picks a free one)."""
    runner = web.AppRunner(web_app(bolt, path), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        yield sockets[0].getsockname()[1] if sockets else port
    finally:
        await runner.cleanup()


async def run(app: App) -> None:
    settings = app.settings
    if settings.slack_app_token is not None:
        await _socket_mode(app)
        return
    bolt, deps = build(app)
    app.notices["slack"] = SlackInterruptionNotices(deps.client)
    app.messengers["slack"] = SlackMessenger(deps.client)
    try:
        async with http_server(
            bolt, settings.slack_host, settings.slack_port, settings.slack_path
        ) as port:
            logger.info(
                "slack: HTTP mode on %s:%s%s", settings.slack_host, port, settings.slack_path
            )
            await asyncio.Event().wait()
    finally:
        app.notices.pop("slack", None)
        app.messengers.pop("slack", None)


async def _socket_mode(app: App) -> None:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    assert app.settings.slack_app_token is not None
    bolt, deps = build(app, socket_mode=True)
    handler = AsyncSocketModeHandler(bolt, app.settings.slack_app_token.get_secret_value())
    app.notices["slack"] = SlackInterruptionNotices(deps.client)
    app.messengers["slack"] = SlackMessenger(deps.client)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]  # bolt leaves it untyped
        logger.info("slack: Socket Mode connected")
        await asyncio.Event().wait()
    finally:
        app.notices.pop("slack", None)
        app.messengers.pop("slack", None)
        await handler.close_async()  # type: ignore[no-untyped-call]
