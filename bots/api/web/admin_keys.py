"""The API keys on a user's page of the admin console, under
``/web/api/admin/users/{id}/keys``: the account's live keys with their limits and use, and
revoking one. The same core use cases check the admin role (403 for anyone else), and the
revocation passes the Origin check of bots.api.web.csrf like every ``/web/api/`` POST."""

from __future__ import annotations

from aiohttp import web

from bots.api.web import admin_views
from bots.api.web.admin import _account_id, _failure, _json, _refusal, _who
from core.errors import CoreError


def _key_id(request: web.Request) -> int:
    raw = request.match_info["key"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound()
    return int(raw)


async def keys(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    try:
        found = await core.console.keys_of(user.principal, _account_id(request))
    except CoreError as exc:
        return _failure(t, exc)
    return _json(admin_views.api_keys(found))


async def revoke(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    account_id = _account_id(request)
    try:
        await core.console.revoke_key(user.principal, account_id, _key_id(request))
        found = await core.console.keys_of(user.principal, account_id)
    except CoreError as exc:
        # A key already revoked (say by another admin a moment ago) is a message on the
        # page, not a failed request: see ``_refusal``.
        return _refusal(t, exc)
    return _json({**admin_views.api_keys(found), "notice": t("web.admin_key_revoked")})


def add_keys(app: web.Application) -> None:
    router = app.router
    router.add_get("/web/api/admin/users/{id}/keys", keys)
    router.add_post("/web/api/admin/users/{id}/keys/{key}/revoke", revoke)
