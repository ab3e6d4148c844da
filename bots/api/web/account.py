"""Signing in and out from the page, the session it shows, the model picker, New chat."""

from __future__ import annotations

from aiohttp import web

from bots.api.deps import DEPS
from bots.api.mapping import client_address
from bots.api.web import bodies, session, views
from bots.api.web.config import WEB
from bots.api.web.session import WebUser, browser_language, current_user
from core.errors import CoreError
from core.i18n import Translator
from core.services import Core

WEB_CHAT = "web"  # the conversation of the web page (context, /reset)


def translator_for(core: Core, request: web.Request, user: WebUser | None) -> Translator:
    """The account's /lang choice, else the browser's preferred language."""
    if user is None:
        return Translator(browser_language(request))
    return Translator(core.accounts.language_of(user.principal.account, user.caller))


async def signed_in(request: web.Request) -> tuple[Core, WebUser, Translator]:
    core = request.app[DEPS].core
    user = await current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(text="sign in first")
    return core, user, translator_for(core, request, user)


async def get_session(request: web.Request) -> web.StreamResponse:
    """Always 200: a signed-out page asks who it is without a failed request."""
    core = request.app[DEPS].core
    user = await current_user(request)
    t = translator_for(core, request, user)
    body = views.session(core, t, user, request.app[WEB].registration)
    return web.json_response(body, headers=views.NO_STORE)


async def _sign_in(request: web.Request, creds: bodies.Credentials, t: Translator) -> web.Response:
    core = request.app[DEPS].core
    try:
        pair = await core.auth.login(creds.username, creds.password, client_address(request))
    except CoreError as exc:
        return views.error(t, exc)
    session.start(request, pair)
    return views.reply("signed_in")


async def sign_in(request: web.Request) -> web.StreamResponse:
    creds = await bodies.read(request, bodies.Credentials)
    return await _sign_in(request, creds, Translator(browser_language(request)))


async def create_account(request: web.Request) -> web.StreamResponse:
    """Register, then sign in at once (the person lands in the chat)."""
    t = Translator(browser_language(request))
    if not request.app[WEB].registration:
        return views.reply("error", t("web.registration_off"))
    creds = await bodies.read(request, bodies.NewAccount)
    invite = (creds.invite or "").strip() or None
    try:
        await request.app[DEPS].core.auth.register(creds.username, creds.password, invite)
    except CoreError as exc:
        return views.error(t, exc)
    return await _sign_in(request, creds, t)


async def sign_out(request: web.Request) -> web.StreamResponse:
    """Ends the session on the server: every token of the account is revoked."""
    user = await current_user(request)
    if user is not None:
        await request.app[DEPS].core.auth.logout(user.principal)
    session.end(request)
    return views.reply("signed_out")


async def choose_model(request: web.Request) -> web.StreamResponse:
    core, user, t = await signed_in(request)
    choice = await bodies.read(request, bodies.ChooseModel)
    try:
        model = await core.accounts.choose_chat_model(user.caller, choice.model)
    except CoreError as exc:
        return views.error(t, exc)
    return views.reply("notice", t("cmd.model_set", model=model.name))


async def new_chat(request: web.Request) -> web.StreamResponse:
    core, user, t = await signed_in(request)
    try:
        await core.conversations.reset(user.caller, WEB_CHAT)
    except CoreError as exc:
        return views.error(t, exc)
    return views.reply("notice", t("web.new_chat_done"))
