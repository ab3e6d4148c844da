"""The aiohttp application: every endpoint registered explicitly from the handlers'
``routes()``, the error middleware, the body size limit, the Swagger UI assets."""

from __future__ import annotations

from aiohttp import web

from bots.api.deps import DEPS, ApiDeps
from bots.api.errors import errors_middleware
from bots.api.handlers import auth, chat, files, misc, openai, openai_media, users
from bots.api.openapi import build_document
from bots.api.registry import Endpoint, route


def routes() -> list[Endpoint]:
    """Every endpoint of the API, in the order of the document."""
    return [
        *auth.routes(),
        *chat.routes(),
        *files.routes(),
        *users.routes(),
        *openai.routes(),
        *openai_media.routes(),
        *misc.routes(),
    ]


def add_routes(app: web.Application, endpoints: list[Endpoint]) -> None:
    for spec in endpoints:
        app.router.add_route(spec.method, spec.path, route(spec))
    misc.add_docs_assets(app)


def build_web_app(deps: ApiDeps, *, max_body_bytes: int) -> web.Application:
    endpoints = routes()
    app = web.Application(client_max_size=max_body_bytes, middlewares=[errors_middleware])
    app[DEPS] = deps
    app[misc.DOCUMENT] = build_document(endpoints)
    add_routes(app, endpoints)
    return app
