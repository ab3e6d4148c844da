"""The aiohttp application: routes from the endpoint declarations, the error middleware,
the body size limit."""

from __future__ import annotations

from aiohttp import web

# Imported for their @endpoint declarations.
from bots.api import routes_auth, routes_chat, routes_misc, routes_openai, routes_users  # noqa: F401
from bots.api.deps import DEPS, ApiDeps
from bots.api.errors import errors_middleware
from bots.api.openapi import COMPONENTS, build_document
from bots.api.registry import ENDPOINTS, route
from bots.api.routes_misc import DOCUMENT, add_docs_assets


def build_web_app(deps: ApiDeps, *, max_body_bytes: int) -> web.Application:
    app = web.Application(client_max_size=max_body_bytes, middlewares=[errors_middleware])
    app[DEPS] = deps
    app[DOCUMENT] = build_document()
    for spec in ENDPOINTS:
        app.router.add_route(spec.method, spec.path, route(spec, COMPONENTS))
    add_docs_assets(app)
    return app
