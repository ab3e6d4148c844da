"""/users/me, the admin user directory, credit grants, ledgers and API keys."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field

from bots.api import models as m
from bots.api import render
from bots.api.mapping import header_key, profile_change, request_hash
from bots.api.models import Id
from bots.api.registry import Ctx, Endpoint, Param, json_content
from core.types import Role

USER = {200: ("A user", json_content(m.User))}
ID_PARAM = (Param("id", Id, "account id"),)
PAGE = (
    Param(
        "q", Annotated[str, Field(max_length=100)], "part of a name or user id, or an account id"
    ),
    Param("offset", Annotated[int, Field(ge=0, le=1_000_000)]),
    Param("limit", Annotated[int, Field(ge=1, le=100)]),
)
IDEMPOTENCY = (
    Param(
        "Idempotency-Key", Annotated[str, Field(min_length=1, max_length=200)], "repeat-safe key"
    ),
)


async def _me(ctx: Ctx) -> web.Response:
    account = ctx.user.account
    return render.json(render.user(account, await ctx.services.account.identities_of(account)))


async def get_me(ctx: Ctx) -> web.StreamResponse:
    return await _me(ctx)


async def patch_me(ctx: Ctx) -> web.StreamResponse:
    change = profile_change(ctx.body_as(m.ProfileChange))
    ctx.principal = await ctx.services.account.update(ctx.user, change)
    return await _me(ctx)


async def delete_me(ctx: Ctx) -> web.StreamResponse:
    await ctx.services.account.delete(ctx.user)
    return web.Response(status=204)


async def list_users(ctx: Ctx) -> web.StreamResponse:
    offset, limit = ctx.query.get("offset", 0), ctx.query.get("limit", 20)
    entries, total = await ctx.services.admin.users(ctx.user, ctx.query.get("q"), offset, limit)
    items = [render.user_entry(e) for e in entries]
    return render.json(m.UserList(items=items, total=total, offset=offset, limit=limit))


async def get_user(ctx: Ctx) -> web.StreamResponse:
    entry = await ctx.services.admin.user(ctx.user, ctx.query["id"])
    return render.json(render.user_entry(entry))


async def patch_user(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.AdminUserChange)
    role = Role(body.role) if body.role is not None else None
    entry = await ctx.services.admin.change_user(ctx.user, ctx.query["id"], role, body.banned)
    return render.json(render.user_entry(entry))


async def grant_credits(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.Grant)
    account_id, amount, reason = ctx.query["id"], body.amount, body.reason
    key = header_key(ctx.request, 200)
    idempotency = (key, request_hash(account_id, amount, reason)) if key else None
    result = await ctx.services.admin.grant(ctx.user, account_id, amount, reason, idempotency)
    return render.json(render.grant(result.record, result.replayed))


async def user_ledger(ctx: Ctx) -> web.StreamResponse:
    rows = await ctx.services.admin.ledger(ctx.user, ctx.query["id"], ctx.query.get("limit", 50))
    return render.json(m.LedgerList(items=[render.ledger_entry(r) for r in rows]))


async def create_api_key(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.ApiKeyCreate)
    new = await ctx.services.account.create_key(ctx.user, body.name)
    return render.json(render.api_key(new.record, new.key), status=201)


async def list_api_keys(ctx: Ctx) -> web.StreamResponse:
    keys = await ctx.services.account.keys(ctx.user)
    return render.json(m.ApiKeyList(items=[render.api_key(k) for k in keys]))


async def delete_api_key(ctx: Ctx) -> web.StreamResponse:
    await ctx.services.account.revoke_key(ctx.user, ctx.query["id"])
    return web.Response(status=204)


def routes() -> list[Endpoint]:
    return [
        Endpoint("GET", "/users/me", get_me, tag="users", summary="The caller", ok=USER),
        Endpoint(
            "PATCH",
            "/users/me",
            patch_me,
            tag="users",
            summary="Change username, password (both need current_password) or language",
            body=m.ProfileChange,
            ok=USER,
        ),
        Endpoint(
            "DELETE",
            "/users/me",
            delete_me,
            tag="users",
            summary="Delete the account and its data",
            ok={204: ("Deleted", {})},
        ),
        Endpoint(
            "GET",
            "/users",
            list_users,
            tag="admin",
            summary="List or search users (admin)",
            query=PAGE,
            ok={200: ("A page of users", json_content(m.UserList))},
        ),
        Endpoint(
            "GET",
            "/users/{id}",
            get_user,
            tag="admin",
            summary="One user (admin)",
            path_params=ID_PARAM,
            ok=USER,
        ),
        Endpoint(
            "PATCH",
            "/users/{id}",
            patch_user,
            tag="admin",
            summary="Change a user's role or ban (admin)",
            path_params=ID_PARAM,
            body=m.AdminUserChange,
            ok=USER,
        ),
        Endpoint(
            "POST",
            "/users/{id}/credits",
            grant_credits,
            tag="admin",
            summary="Grant (or take) credits (admin; Idempotency-Key)",
            path_params=ID_PARAM,
            body=m.Grant,
            headers=IDEMPOTENCY,
            ok={200: ("Granted", json_content(m.GrantResult))},
        ),
        Endpoint(
            "GET",
            "/users/{id}/ledger",
            user_ledger,
            tag="admin",
            summary="A user's ledger, newest first (admin)",
            path_params=ID_PARAM,
            query=(Param("limit", Annotated[int, Field(ge=1, le=500)]),),
            ok={200: ("Ledger rows", json_content(m.LedgerList))},
        ),
        Endpoint(
            "POST",
            "/api-keys",
            create_api_key,
            tag="api-keys",
            summary="A new API key for /v1 (shown once)",
            body=m.ApiKeyCreate,
            ok={201: ("The key, shown only now", json_content(m.ApiKey))},
        ),
        Endpoint(
            "GET",
            "/api-keys",
            list_api_keys,
            tag="api-keys",
            summary="The caller's API keys (prefixes only)",
            ok={200: ("Keys", json_content(m.ApiKeyList))},
        ),
        Endpoint(
            "DELETE",
            "/api-keys/{id}",
            delete_api_key,
            tag="api-keys",
            summary="Revoke an API key",
            path_params=(Param("id", Id),),
            ok={204: ("Revoked", {})},
        ),
    ]
