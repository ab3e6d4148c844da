"""Cross-site request forgery: every state-changing request to the page's endpoints must
come from this origin. Browsers always send ``Origin`` on a cross-site POST and on a
same-origin fetch POST, and a page cannot forge it; a request without one (a form posted
from an old browser, or a script outside any browser) is refused too, since the page
never sends such. The cookies are SameSite=Strict as well: two locks, one per mechanism."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PROTECTED_PREFIX = "/web/api/"


def own_origin(request: web.Request) -> str:
    # ``scheme`` is the client's once TRUSTED_PROXIES vouched for X-Forwarded-Proto.
    return f"{request.scheme}://{request.host}"


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is not None and origin == own_origin(request)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (
        request.path.startswith(PROTECTED_PREFIX)
        and request.method not in SAFE_METHODS
        and not same_origin(request)
    ):
        return web.json_response(
            {"error": {"code": "cross_site", "message": "cross-site request refused"}},
            status=403,
        )
    return await handler(request)
