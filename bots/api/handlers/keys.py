"""/api-keys: a signed-in person's keys for /v1, with their limits (budget, expiry,
models, requests per minute) and their use. Keys cannot manage keys (these endpoints
take a signed-in session only)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from bots.api import mapping, render
from bots.api import models as m
from bots.api.models import ID
from bots.api.registry import Ctx, Endpoint, Param, endpoint, json_content


@endpoint(
    "POST",
    "/api-keys",
    tag="api-keys",
    body=m.ApiKeyCreate,
    summary="A new API key for /v1 (shown once), with optional budget, expiry, models, rate",
    ok={201: ("The key, shown only now", json_content(m.ApiKey))},
)
async def create_api_key(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.ApiKeyCreate)
    new = await ctx.core.api_keys.create(ctx.user, body.name, mapping.key_options(body))
    return render.json(render.api_key(new.record, _now(), new.key), status=201)


@endpoint(
    "GET",
    "/api-keys",
    tag="api-keys",
    summary="The caller's live API keys: prefixes, limits and use",
    ok={200: ("Keys", json_content(m.ApiKeyList))},
)
async def list_api_keys(ctx: Ctx) -> web.StreamResponse:
    keys, now = await ctx.core.api_keys.keys(ctx.user), _now()
    return render.json(m.ApiKeyList(items=[render.api_key(k, now) for k in keys]))


@endpoint(
    "GET",
    "/api-keys/{id}",
    tag="api-keys",
    path_params=(Param("id", ID),),
    summary="One API key: its limits and use",
    ok={200: ("The key", json_content(m.ApiKey))},
)
async def get_api_key(ctx: Ctx) -> web.StreamResponse:
    record = await ctx.core.api_keys.get(ctx.user, ctx.query["id"])
    return render.json(render.api_key(record, _now()))


@endpoint(
    "PATCH",
    "/api-keys/{id}",
    tag="api-keys",
    path_params=(Param("id", ID),),
    body=m.ApiKeyChange,
    summary="Change an API key's limits (null removes one)",
    ok={200: ("The key as changed", json_content(m.ApiKey))},
)
async def patch_api_key(ctx: Ctx) -> web.StreamResponse:
    options = mapping.key_options(ctx.body_as(m.ApiKeyChange))
    record = await ctx.core.api_keys.update(ctx.user, ctx.query["id"], options)
    return render.json(render.api_key(record, _now()))


@endpoint(
    "DELETE",
    "/api-keys/{id}",
    tag="api-keys",
    path_params=(Param("id", ID),),
    summary="Revoke an API key",
    ok={204: ("Revoked", {})},
)
async def delete_api_key(ctx: Ctx) -> web.StreamResponse:
    await ctx.core.api_keys.revoke(ctx.user, ctx.query["id"])
    return web.Response(status=204)


def _now() -> datetime:
    return datetime.now(UTC)


def routes() -> list[Endpoint]:
    return [create_api_key, list_api_keys, get_api_key, patch_api_key, delete_api_key]
