"""CORS for browser clients of the API (a web app calling /v1 with an API key, say).

Off unless ``CORS_ORIGINS`` names origins: then a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) from an allowed origin is answered here, 204 with the
methods the API has and the headers the browser asked for (the official SDKs send their
own ``x-stainless-*`` headers; headers are no security boundary, the origin is), and every
other response to an allowed origin carries ``Access-Control-Allow-Origin``. A disallowed
origin gets no CORS headers (the browser then blocks the answer) and a 403 to its
preflight. ``*`` allows any origin; credentials are never allowed with it: the settings
refuse ``CORS_ALLOW_CREDENTIALS`` with ``*`` at load, and this module would not send
``Access-Control-Allow-Credentials`` for ``*`` either.

Written here rather than with aiohttp-cors (0.8.1, kept by aio-libs): that library is
configured route by route (endpoints other modules add later would need registering too),
answers refusals in plain text instead of the API's JSON errors, reflects the origin for
``*`` and sends no ``Vary: Origin``, which lets a shared cache hand one origin's answer to
another. The headers are added in ``on_response_prepare`` so that streamed answers (SSE),
whose headers go out before the handler returns, carry them too."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from bots.api.errors import error_response

METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
EXPOSED = "Retry-After"  # readable by the page: how long to wait after a 429
PREFLIGHT_VARY = ("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    origins: frozenset[str]  # lower-case ``scheme://host[:port]``; "*" for any
    allow_credentials: bool = False
    max_age_s: int = 600

    def __post_init__(self) -> None:
        if "*" in self.origins and self.allow_credentials:
            raise ValueError("CORS credentials are never allowed with the wildcard origin")

    def allowed(self, origin: str) -> str | None:
        """The Access-Control-Allow-Origin value for ``origin``; None when refused."""
        if origin.lower() in self.origins:
            return origin
        return "*" if "*" in self.origins else None


def _allow(policy: CorsPolicy, value: str, headers: MutableMapping[str, str]) -> None:
    headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = value
    if value != "*":  # a reflected origin: caches must keep one answer per origin
        _vary(headers, "Origin")
        if policy.allow_credentials:
            headers[hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"


def _vary(headers: MutableMapping[str, str], *names: str) -> None:
    present = {n.strip().lower() for n in headers.get(hdrs.VARY, "").split(",") if n.strip()}
    added = [n for n in names if n.lower() not in present]
    if added:
        headers[hdrs.VARY] = ", ".join(filter(None, [headers.get(hdrs.VARY, ""), *added]))


def install(app: web.Application, policy: CorsPolicy) -> None:
    """Answer preflights first (before authentication, which a preflight never carries)
    and add the CORS headers to every response prepared for an allowed origin."""

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        asked = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD)
        if request.method != hdrs.METH_OPTIONS or origin is None or asked is None:
            return await handler(request)
        value = policy.allowed(origin)
        if value is None:
            return error_response(403, "cors_origin_not_allowed", "origin not allowed")
        response = web.Response(status=204)
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = METHODS
        wanted = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS)
        if wanted:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = wanted
        response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = str(policy.max_age_s)
        _vary(response.headers, *PREFLIGHT_VARY)
        _allow(policy, value, response.headers)
        return response

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or hdrs.ACCESS_CONTROL_ALLOW_ORIGIN in response.headers:
            return
        value = policy.allowed(origin)
        if value is None:
            return
        _allow(policy, value, response.headers)
        response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED

    app.middlewares.insert(0, preflight)
    app.on_response_prepare.append(add_headers)
