"""GET ``/`` (the chat page), the versioned assets and the favicon."""

from __future__ import annotations

from aiohttp import web

from bots.api.web.session import browser_language
from bots.api.web.static import ASSETS
from core.i18n import Translator


async def chat_page(request: web.Request) -> web.StreamResponse:
    # The shell in the browser's language; once signed in, the page takes the account's
    # words from /web/api/session.
    return request.app[ASSETS].page("index.html", Translator(browser_language(request)))


async def asset(request: web.Request) -> web.StreamResponse:
    return request.app[ASSETS].asset(request.match_info["version"], request.match_info["name"])


async def favicon(request: web.Request) -> web.StreamResponse:
    return request.app[ASSETS].asset(request.app[ASSETS].version, "favicon.svg")
