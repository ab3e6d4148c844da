"""GET /health, /openapi.json and /docs (Swagger UI served from this server, no CDN)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from bots.api import models as m
from bots.api import render
from bots.api.registry import Ctx, Endpoint, endpoint, json_content

DOCS_PAGE = Path(__file__).parent.with_name("static") / "docs.html"
# The Swagger UI files the page loads, from the swagger-ui-py package's static folder.
SWAGGER_FILES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "application/javascript",
    "favicon-32x32.png": "image/png",
}
DOCUMENT = web.AppKey("openapi_document", dict)


@endpoint(
    "GET",
    "/health",
    tag="meta",
    summary="Database and Redis status",
    auth="none",
    ok={
        200: (
            "Healthy or degraded (Redis down: limits are per process)",
            json_content(m.Health),
        )
    },
)
async def health(ctx: Ctx) -> web.StreamResponse:
    health = await ctx.core.lifecycle.health()
    code = 200 if health.database == "ok" else 503
    status = "ok" if health.ok else "degraded"
    body = m.Health.model_validate(
        {"status": status, "database": health.database, "redis": health.redis}
    )
    return render.json(body, status=code)


@endpoint(
    "GET",
    "/openapi.json",
    tag="meta",
    summary="This document",
    auth="none",
    ok={200: ("OpenAPI 3.1", json_content({"type": "object"}))},
)
async def openapi_document(ctx: Ctx) -> web.StreamResponse:
    return web.json_response(ctx.request.app[DOCUMENT])


@endpoint(
    "GET",
    "/docs",
    tag="meta",
    summary="Interactive documentation",
    auth="none",
    ok={200: ("An HTML page", {"text/html": {"type": "string"}})},
)
async def docs(ctx: Ctx) -> web.StreamResponse:
    return web.FileResponse(DOCS_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})


def add_docs_assets(app: web.Application) -> None:
    """Serve Swagger UI's own files under /docs/static (not part of the API document)."""
    folder = Path(str(resources.files("swagger_ui") / "static"))

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in SWAGGER_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(folder / name, headers={"Content-Type": SWAGGER_FILES[name]})

    app.router.add_get("/docs/static/{name}", asset)


def routes() -> list[Endpoint]:
    return [health, openapi_document, docs]
