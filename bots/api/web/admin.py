"""The admin console at ``/admin``: its page and its JSON under ``/web/api/admin/``.

Signed in with the same cookies as the chat page. Every data endpoint goes through a
core use case that checks the admin role first, so a non-admin gets 403 and no data;
``/web/api/admin/session`` is the one exception: it always answers 200 (the page's
words and whether this person may see the console), so the page can show a refusal
without a failed request in the browser's console."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from aiohttp import web
from pydantic import Field

from bots.api.deps import DEPS
from bots.api.errors import core_error
from bots.api.mapping import request_hash
from bots.api.web import admin_views, bodies
from bots.api.web.account import translator_for
from bots.api.web.session import WebUser, current_user
from bots.api.web.static import ASSETS
from bots.views import error_text
from core.errors import CoreError, NotAllowed
from core.i18n import Translator
from core.money import format_credits
from core.services import Core
from core.services.grants import Idempotency
from core.types import Role

PAGE_SIZE = 25
LEDGER_SIZE = 50
QUESTIONS = 20
NO_STORE = {"Cache-Control": "no-store"}


class UserChange(bodies._Body):
    role: Literal["guest", "user", "admin"] | None = None
    banned: bool | None = None


class GrantBody(bodies._Body):
    amount: str = Field(min_length=1, max_length=40)
    reason: str = Field("", max_length=500)
    # Made by the page once per filled-in form: a double click sends it twice, and the
    # core's idempotent grant answers the second with the first's result.
    key: str = Field(pattern=r"^[A-Za-z0-9-]{8,100}$")


def app_version() -> str:
    try:
        return version("switchboard")
    except PackageNotFoundError:
        return "unknown"


async def admin_page(request: web.Request) -> web.StreamResponse:
    core = request.app[DEPS].core
    user = await current_user(request)
    return request.app[ASSETS].page("admin.html", translator_for(core, request, user))


async def _who(request: web.Request) -> tuple[Core, WebUser, Translator]:
    core = request.app[DEPS].core
    user = await current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(text="sign in first")
    return core, user, translator_for(core, request, user)


def _json(body: object) -> web.Response:
    return web.json_response(body, headers=NO_STORE)


def _failure(t: Translator, exc: CoreError) -> web.Response:
    """The core's refusal with its HTTP status, in the person's language."""
    status, code, _english = core_error(exc)
    body = {"error": {"code": code, "message": error_text(t, exc)}}
    return web.json_response(body, status=status, headers=NO_STORE)


def _refusal(t: Translator, exc: CoreError) -> web.Response:
    """A refused change (a bad amount, banning oneself) is a message on the page, like
    the chat's refusals: 200, so the browser logs no failed request. Admin rights are
    the exception: a non-admin gets 403 from every endpoint."""
    if isinstance(exc, NotAllowed):
        return _failure(t, exc)
    status, code, _english = core_error(exc)
    body = {"error": {"code": code, "status": status, "message": error_text(t, exc)}}
    return web.json_response(body, headers=NO_STORE)


def _account_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound()
    return int(raw)


async def session(request: web.Request) -> web.StreamResponse:
    """Always 200: the words, and whether the console may be shown (admins only)."""
    core = request.app[DEPS].core
    user = await current_user(request)
    t = translator_for(core, request, user)
    allowed = (
        user is not None
        and user.principal.account.role is Role.ADMIN
        and not user.principal.account.banned
    )
    body = {
        "signed_in": user is not None,
        "allowed": allowed,
        "language": t.language,
        "username": user.principal.credential.username if user else None,
        "words": admin_views.words(t),
    }
    return _json(body)


async def users(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    query = request.query.get("q", "").strip()[:100] or None
    offset_text = request.query.get("offset", "0")
    offset = int(offset_text) if offset_text.isdigit() and len(offset_text) < 8 else 0
    try:
        found, total = await core.console.users(user.principal, query, offset, PAGE_SIZE)
    except CoreError as exc:
        return _failure(t, exc)
    items = [admin_views.user(u) for u in found]
    return _json({"items": items, "total": total, "offset": offset, "limit": PAGE_SIZE})


async def user_page(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    try:
        page = await core.console.user(user.principal, _account_id(request), LEDGER_SIZE, QUESTIONS)
    except CoreError as exc:
        return _failure(t, exc)
    return _json(admin_views.user_page(page))


async def change_user(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    change = await bodies.read(request, UserChange)
    account_id = _account_id(request)
    role = Role(change.role) if change.role else None
    try:
        await core.admin.change_user(user.principal, account_id, role, change.banned)
        page = await core.console.user(user.principal, account_id, LEDGER_SIZE, QUESTIONS)
    except CoreError as exc:
        return _refusal(t, exc)
    return _json({**admin_views.user_page(page), "notice": t("web.admin_saved")})


async def grant(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    body = await bodies.read(request, GrantBody)
    account_id = _account_id(request)
    reason = body.reason.strip() or None
    # The same request shape as POST /users/{id}/credits: a key reused for another grant
    # is refused (409), not silently answered with the first one.
    idempotency = Idempotency(f"web:{body.key}", request_hash(account_id, body.amount, reason))
    try:
        result = await core.admin.grant_to_account(
            user.principal, account_id, body.amount, reason, idempotency
        )
        page = await core.console.user(user.principal, account_id, LEDGER_SIZE, QUESTIONS)
    except CoreError as exc:
        return _refusal(t, exc)
    word = "web.admin_replayed" if result.replayed else "web.admin_granted"
    notice = t(word, amount=body.amount, balance=format_credits(result.record.balance))
    return _json({**admin_views.user_page(page), "notice": notice, "replayed": result.replayed})


async def usage(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    try:
        report = await core.console.usage(user.principal)
    except CoreError as exc:
        return _failure(t, exc)
    return _json(admin_views.usage(report))


async def topics(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    try:
        report = await core.console.topics(user.principal)
    except CoreError as exc:
        return _failure(t, exc)
    return _json(admin_views.topics(report))


async def system(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    try:
        report = await core.console.system(user.principal)
    except CoreError as exc:
        return _failure(t, exc)
    return _json(admin_views.system(t, report, app_version()))


def add_admin(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin", admin_page)
    router.add_get("/web/api/admin/session", session)
    router.add_get("/web/api/admin/users", users)
    router.add_get("/web/api/admin/users/{id}", user_page)
    router.add_post("/web/api/admin/users/{id}", change_user)
    router.add_post("/web/api/admin/users/{id}/grant", grant)
    router.add_get("/web/api/admin/usage", usage)
    router.add_get("/web/api/admin/topics", topics)
    router.add_get("/web/api/admin/system", system)
