"""The browser's session: the API's own access and refresh tokens (core.auth), kept in
HttpOnly SameSite=Strict cookies that no script can read.

The access cookie is tried first; when it has expired the refresh cookie buys a new pair
(refresh tokens work once, and reuse revokes the family). A page fires several requests at
once, so two of them may present the same expiring refresh token: the pair it bought is
kept for a short grace period in this process and handed to the second one instead of
revoking everything. New cookies are written by ``on_response_prepare``, so streamed
answers carry them as well."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, replace

from aiohttp import web

from bots.api.deps import DEPS
from bots.api.web.config import WEB
from bots.api.web.proxies import as_handled
from core.errors import Unauthenticated
from core.services.auth import API_KEY_PREFIX, Principal, TokenPair, digest
from core.services.requests import Caller

ACCESS_COOKIE = "sb_access"
REFRESH_COOKIE = "sb_refresh"
ROTATION_GRACE_S = 30.0
LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
_NEW_PAIR = web.RequestKey("web_new_pair", TokenPair)
_SIGNED_OUT = web.RequestKey("web_signed_out", bool)


@dataclass(frozen=True, slots=True)
class WebUser:
    principal: Principal
    caller: Caller  # the API identity, with the browser's language as its locale hint


class RotatedPairs:
    """Refresh tokens this process rotated lately → the pair each bought."""

    def __init__(self) -> None:
        self._pairs: dict[str, tuple[float, TokenPair]] = {}
        self._lock = asyncio.Lock()

    async def refresh(self, request: web.Request, token: str) -> TokenPair:
        key = digest(token)
        async with self._lock:
            now = time.monotonic()
            self._pairs = {k: v for k, v in self._pairs.items() if now - v[0] < ROTATION_GRACE_S}
            if key in self._pairs:
                return self._pairs[key][1]
            pair = await request.app[DEPS].core.auth.refresh(token)
            self._pairs[key] = (now, pair)
            return pair


ROTATED = web.AppKey("web_rotated_pairs", RotatedPairs)


def browser_language(request: web.Request) -> str | None:
    """The first language of Accept-Language (the browser's preferred one)."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    # A language tag is short letters and dashes; anything else is not a hint worth keeping.
    return first if LANGUAGE_TAG.fullmatch(first) else None


async def current_user(request: web.Request) -> WebUser | None:
    """The signed-in person, or None. Storage outages propagate (not a sign-out)."""
    auth = request.app[DEPS].core.auth
    principal = None
    access = request.cookies.get(ACCESS_COOKIE, "")
    if access and not access.startswith(API_KEY_PREFIX):  # API keys are for /v1 only
        try:
            principal = await auth.authenticate(access)
        except Unauthenticated:
            principal = None
    refresh = request.cookies.get(REFRESH_COOKIE, "")
    if principal is None and refresh:
        try:
            pair = await request.app[ROTATED].refresh(request, refresh)
            principal = await auth.authenticate(pair.access_token)
        except Unauthenticated:
            request[_SIGNED_OUT] = True  # stale cookies: clear them
            return None
        request[_NEW_PAIR] = pair
    if principal is None:
        return None
    return WebUser(principal, replace(principal.caller, locale=browser_language(request)))


def start(request: web.Request, pair: TokenPair) -> None:
    request[_NEW_PAIR] = pair


def end(request: web.Request) -> None:
    request[_SIGNED_OUT] = True


async def write_cookies(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: set or clear the cookies this request decided on. aiohttp
    has already turned ``response.cookies`` into headers by then, so the cookies are made
    on a scratch response and copied over as Set-Cookie headers."""
    request = as_handled(request)
    pair: TokenPair | None = request.get(_NEW_PAIR)
    scratch = web.Response()
    if request.get(_SIGNED_OUT) and pair is None:
        for name in (ACCESS_COOKIE, REFRESH_COOKIE):
            scratch.del_cookie(name, path="/web/api/")
    elif pair is not None:
        _set_pair(request, scratch, pair)
        response.headers["Cache-Control"] = "no-store"
    for cookie in scratch.cookies.values():
        response.headers.add("Set-Cookie", cookie.output(header="")[1:])


def _set_pair(request: web.Request, scratch: web.Response, pair: TokenPair) -> None:
    config = request.app[WEB]
    for name, value, ttl in (
        (ACCESS_COOKIE, pair.access_token, config.access_ttl_s),
        (REFRESH_COOKIE, pair.refresh_token, config.refresh_ttl_s),
    ):
        scratch.set_cookie(
            name,
            value,
            max_age=ttl,
            path="/web/api/",  # sent to the page's endpoints only, never to /v1 or /ask
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
