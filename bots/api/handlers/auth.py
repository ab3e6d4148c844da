"""POST /auth/register, /auth/login, /auth/refresh, /auth/logout."""

from __future__ import annotations

from aiohttp import web

from bots.api import models as m
from bots.api import render
from bots.api.mapping import client_address
from bots.api.registry import Ctx, Endpoint, endpoint, json_content
from core.services.auth import TokenPair

TOKENS = {200: ("Tokens", json_content(m.Tokens))}


def _tokens(pair: TokenPair) -> web.Response:
    return render.json(
        m.Tokens(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type="bearer",
            expires_in=pair.expires_in,
        ),
        headers={"Cache-Control": "no-store"},
    )


@endpoint(
    "POST",
    "/auth/register",
    tag="auth",
    summary="Create an API user",
    auth="none",
    body=m.Registration,
    ok={201: ("The new user", json_content(m.User))},
)
async def register(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.Registration)
    principal = await ctx.core.auth.register(body.username, body.password, body.invite)
    identities = await ctx.core.accounts.identities_of(principal.account)
    return render.json(render.user(principal.account, identities), status=201)


@endpoint(
    "POST",
    "/auth/login",
    tag="auth",
    summary="Access (15 min) and refresh tokens",
    auth="none",
    body=m.Credentials,
    ok=TOKENS,
)
async def login(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.Credentials)
    pair = await ctx.core.auth.login(body.username, body.password, client_address(ctx.request))
    return _tokens(pair)


@endpoint(
    "POST",
    "/auth/refresh",
    tag="auth",
    auth="none",
    body=m.RefreshRequest,
    ok=TOKENS,
    summary="New tokens for a refresh token (works once; reuse revokes the family)",
)
async def refresh(ctx: Ctx) -> web.StreamResponse:
    return _tokens(await ctx.core.auth.refresh(ctx.body_as(m.RefreshRequest).refresh_token))


@endpoint(
    "POST",
    "/auth/logout",
    tag="auth",
    ok={204: ("Logged out everywhere", {})},
    summary="Revoke every token of the account",
)
async def logout(ctx: Ctx) -> web.StreamResponse:
    await ctx.core.auth.logout(ctx.user)
    return web.Response(status=204)


def routes() -> list[Endpoint]:
    return [register, login, refresh, logout]
