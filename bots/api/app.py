"""The aiohttp application: every endpoint registered explicitly from the handlers'
``routes()``, the error middleware, the body size limit, the Swagger UI assets, and the web pages
(``bots.api.web``) with their proxy and CSRF middlewares."""

from __future__ import annotations

from aiohttp import web

from bots.api.cors import CorsPolicy
from bots.api.cors import install as install_cors
from bots.api.deps import DEPS, ApiDeps
from bots.api.errors import errors_middleware
from bots.api.handlers import (
    access,
    auth,
    broadcasts,
    chat,
    files,
    keys,
    misc,
    openai,
    openai_files,
    openai_forms,
    openai_gateway,
    openai_media,
    users,
)
from bots.api.openapi import build_document
from bots.api.registry import Endpoint, route
from bots.api.web.config import WebConfig
from bots.api.web.csrf import csrf_middleware
from bots.api.web.proxies import forwarded_middleware
from bots.api.web.routes import add_web


def routes() -> list[Endpoint]:
    """Every endpoint of the API, in the order of the document."""
    return [
        *auth.routes(),
        *chat.routes(),
        *files.routes(),
        *users.routes(),
        *access.routes(),
        *broadcasts.routes(),
        *keys.routes(),
        *openai.routes(),
        *openai_media.routes(),
        *openai_gateway.routes(),
        *openai_forms.routes(),
        *openai_files.routes(),
        *misc.routes(),
    ]


def add_routes(app: web.Application, endpoints: list[Endpoint]) -> None:
    for spec in endpoints:
        app.router.add_route(spec.method, spec.path, route(spec))
    misc.add_docs_assets(app)


def build_web_app(
    deps: ApiDeps,
    *,
    max_body_bytes: int,
    web_config: WebConfig | None = None,
    cors: CorsPolicy | None = None,
) -> web.Application:
    """``cors``: None (the default) sends no CORS headers at all."""
    endpoints = routes()
    config = web_config or WebConfig()
    middlewares = [
        forwarded_middleware(config.trusted_proxies),  # first: the others see the client
        errors_middleware,
        csrf_middleware,
    ]
    app = web.Application(client_max_size=max_body_bytes, middlewares=middlewares)
    if cors is not None:
        install_cors(app, cors)
    app[DEPS] = deps
    app[misc.DOCUMENT] = build_document(endpoints)
    add_routes(app, endpoints)
    add_web(app, config)  # the chat page at /, beside the API and /docs
    return app
