"""``python -m bots run api``: serve the HTTP API on API_HOST:API_PORT until cancelled."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bots.api.app import build_web_app
from bots.api.deps import ApiDeps
from bots.api.services import SERVICES
from bots.api.wiring import build_services
from bots.bootstrap import App

logger = logging.getLogger(__name__)


async def start(app: App, host: str, port: int) -> web.AppRunner:
    """Start serving; the caller cleans the runner up. Port 0 picks a free port."""
    if app.engine is None:
        raise RuntimeError("the API needs the database engine on App")
    services = build_services(app, app.engine)
    deps = ApiDeps(app.core, max_json_bytes=app.settings.api_max_json_bytes)
    web_app = build_web_app(deps, max_body_bytes=app.settings.api_max_body_bytes)
    web_app[SERVICES] = services
    # A client that goes away cancels its handler: that closes the chat stream, which
    # stops the upstream request and charges only what was produced.
    runner = web.AppRunner(web_app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def bound_port(runner: web.AppRunner) -> int:
    server = next(iter(runner.sites))._server  # the one TCPSite
    assert server is not None and server.sockets  # type: ignore[attr-defined]
    return int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]


async def run(app: App) -> None:
    settings = app.settings
    runner = await start(app, settings.api_host, settings.api_port)
    logger.info(
        "API listening on http://%s:%s (docs at /docs)", settings.api_host, settings.api_port
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
