"""``python -m bots run api``: serve the HTTP API on API_HOST:API_PORT until cancelled."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bots.api.app import build_web_app
from bots.api.cors import CorsPolicy
from bots.api.deps import ApiDeps
from bots.api.web.config import WebConfig
from bots.jwt_tokens import MIN_SECRET_BYTES
from bots.settings import Settings, SettingsError

if TYPE_CHECKING:  # the composition root hands App in; adapters never import it
    from bots.bootstrap import App

logger = logging.getLogger(__name__)


async def start(app: App, host: str, port: int) -> web.AppRunner:
    """Start serving; the caller cleans the runner up. Port 0 picks a free port."""
    require_jwt_secret(app)
    settings = app.settings
    deps = ApiDeps(
        app.core,
        max_json_bytes=settings.api_max_json_bytes,
        max_body_bytes=settings.api_max_body_bytes,
        v1_max_json_bytes=settings.api_v1_max_json_bytes,
    )
    web_config = WebConfig(
        registration=settings.web_registration,
        trusted_proxies=settings.trusted_networks,
        access_ttl_s=settings.api_access_ttl_s,
        refresh_ttl_s=settings.api_refresh_ttl_s,
    )
    web_app = build_web_app(
        deps,
        max_body_bytes=settings.api_max_body_bytes,
        web_config=web_config,
        cors=cors_policy(settings),
    )
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


def cors_policy(settings: Settings) -> CorsPolicy | None:
    origins = settings.cors_origin_set
    if not origins:
        return None
    return CorsPolicy(origins, settings.cors_allow_credentials, settings.cors_max_age)


def require_jwt_secret(app: App) -> None:
    """Signing in needs a usable secret: the composition root builds ``core.auth`` without a
    token codec when there is none, and then the API does not start."""
    if not app.core.auth.signs_tokens:
        raise SettingsError(
            f"bad setting JWT_SECRET: must be set and at least {MIN_SECRET_BYTES} bytes"
        )


def bound_port(runner: web.AppRunner) -> int:
    server = next(iter(runner.sites))._server  # the one TCPSite
    assert server is not None and server.sockets  # type: ignore[attr-defined]
    return int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]


async def run(app: App) -> None:
    settings = app.settings
    runner = await start(app, settings.api_host, settings.api_port)
    logger.info(
        "web chat at http://%s:%s/ (API docs at /docs)", settings.api_host, settings.api_port
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
