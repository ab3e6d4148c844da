"""/users/me (and its /usage), the admin user directory, credit grants and ledgers."""

from __future__ import annotations

from aiohttp import web

from bots.api import models as m
from bots.api import render
from bots.api.mapping import header_key, profile_change, request_hash
from bots.api.models import ID, integer, string
from bots.api.registry import Ctx, Endpoint, Param, endpoint, json_content
from core.services.grants import Idempotency
from core.types import Role

USER = {200: ("A user", json_content(m.User))}
ID_PARAM = (Param("id", ID, "account id"),)
PAGE = (
    Param("q", string(100), "part of a name or user id, or an account id"),
    Param("offset", integer(0, 1_000_000)),
    Param("limit", integer(1, 100)),
)
IDEMPOTENCY = (Param("Idempotency-Key", string(200, 1), "repeat-safe key"),)


async def _me(ctx: Ctx) -> web.Response:
    account = ctx.user.account
    return render.json(render.user(account, await ctx.core.accounts.identities_of(account)))


@endpoint("GET", "/users/me", tag="users", summary="The caller", ok=USER)
async def get_me(ctx: Ctx) -> web.StreamResponse:
    return await _me(ctx)


@endpoint(
    "PATCH",
    "/users/me",
    tag="users",
    body=m.ProfileChange,
    ok=USER,
    summary="Change username, password (both need current_password) or language",
)
async def patch_me(ctx: Ctx) -> web.StreamResponse:
    change = profile_change(ctx.body_as(m.ProfileChange))
    ctx.principal = await ctx.core.profile.update(ctx.user, change)
    return await _me(ctx)


@endpoint(
    "DELETE",
    "/users/me",
    tag="users",
    ok={204: ("Deleted", {})},
    summary="Delete the account and its data",
)
async def delete_me(ctx: Ctx) -> web.StreamResponse:
    await ctx.core.profile.delete(ctx.user)
    return web.Response(status=204)


@endpoint(
    "GET",
    "/users/me/usage",
    tag="users",
    summary="What the caller spent today, this week and this month, and the next allowance",
    ok={200: ("Own usage", json_content(m.OwnUsage))},
)
async def get_my_usage(ctx: Ctx) -> web.StreamResponse:
    return render.json(render.own_usage(await ctx.core.usage.own(ctx.user.caller)))


@endpoint(
    "GET",
    "/users",
    tag="admin",
    admin=True,
    query=PAGE,
    summary="List or search users (admin)",
    ok={200: ("A page of users", json_content(m.UserList))},
)
async def list_users(ctx: Ctx) -> web.StreamResponse:
    offset, limit = ctx.query.get("offset", 0), ctx.query.get("limit", 20)
    entries, total = await ctx.core.admin.users(ctx.user, ctx.query.get("q"), offset, limit)
    items = [render.user_entry(e) for e in entries]
    return render.json(m.UserList(items=items, total=total, offset=offset, limit=limit))


@endpoint(
    "GET",
    "/users/{id}",
    tag="admin",
    admin=True,
    path_params=ID_PARAM,
    ok=USER,
    summary="One user (admin)",
)
async def get_user(ctx: Ctx) -> web.StreamResponse:
    entry = await ctx.core.admin.user(ctx.user, ctx.query["id"])
    return render.json(render.user_entry(entry))


@endpoint(
    "PATCH",
    "/users/{id}",
    tag="admin",
    admin=True,
    path_params=ID_PARAM,
    body=m.AdminUserChange,
    ok=USER,
    summary="Change a user's role or ban (admin)",
)
async def patch_user(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.AdminUserChange)
    role = Role(body.role) if body.role is not None else None
    entry = await ctx.core.admin.change_user(ctx.user, ctx.query["id"], role, body.banned)
    return render.json(render.user_entry(entry))


@endpoint(
    "POST",
    "/users/{id}/credits",
    tag="admin",
    admin=True,
    path_params=ID_PARAM,
    body=m.Grant,
    headers=IDEMPOTENCY,
    summary="Grant (or take) credits (admin; Idempotency-Key)",
    ok={200: ("Granted", json_content(m.GrantResult))},
)
async def grant_credits(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.Grant)
    account_id, amount = ctx.query["id"], body.amount_text()
    reason = body.reason
    key = header_key(ctx.request, 200)
    idempotency = Idempotency(key, request_hash(account_id, amount, reason)) if key else None
    result = await ctx.core.admin.grant_to_account(
        ctx.user, account_id, amount, reason, idempotency
    )
    return render.json(render.grant(result.record, result.replayed))


@endpoint(
    "GET",
    "/users/{id}/ledger",
    tag="admin",
    admin=True,
    path_params=ID_PARAM,
    query=(Param("limit", integer(1, 500)),),
    summary="A user's ledger, newest first (admin)",
    ok={200: ("Ledger rows", json_content(m.LedgerList))},
)
async def user_ledger(ctx: Ctx) -> web.StreamResponse:
    rows = await ctx.core.admin.ledger(ctx.user, ctx.query["id"], ctx.query.get("limit", 50))
    return render.json(m.LedgerList(items=[render.ledger_entry(r) for r in rows]))


def routes() -> list[Endpoint]:
    return [
        get_me,
        patch_me,
        delete_me,
        get_my_usage,
        list_users,
        get_user,
        patch_user,
        grant_credits,
        user_ledger,
    ]
