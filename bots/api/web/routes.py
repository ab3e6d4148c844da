"""Registers the web pages on the API's application (called from ``bots.api.app``)."""

from __future__ import annotations

from aiohttp import web

from bots.api.web import account, admin, admin_access, admin_keys, chat, pages, session
from bots.api.web.config import WEB, WebConfig
from bots.api.web.static import ASSETS, Assets


def add_web(app: web.Application, config: WebConfig) -> None:
    app[WEB] = config
    app[ASSETS] = Assets.load()
    app[session.ROTATED] = session.RotatedPairs()
    app.on_response_prepare.append(session.write_cookies)
    router = app.router
    router.add_get("/", pages.chat_page)
    router.add_get("/favicon.ico", pages.favicon)
    router.add_get("/web/static/{version}/{name}", pages.asset)
    router.add_get("/web/api/session", account.get_session)
    router.add_post("/web/api/sign-in", account.sign_in)
    router.add_post("/web/api/create-account", account.create_account)
    router.add_post("/web/api/sign-out", account.sign_out)
    router.add_post("/web/api/model", account.choose_model)
    router.add_post("/web/api/new-chat", account.new_chat)
    router.add_post("/web/api/send", chat.send)
    router.add_post("/web/api/stop", chat.stop)
    router.add_get("/web/api/history", chat.history)
    router.add_post("/web/api/transcribe", chat.transcribe)
    admin.add_admin(app)  # the console at /admin and its JSON under /web/api/admin/
    admin_access.add_access(app)  # its access section: mode, rules, invitations
    admin_keys.add_keys(app)  # a user's API keys, and revoking one
