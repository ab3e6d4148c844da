"""Access control over HTTP (admins): the mode, the allow/block rules, invitation codes.
The same use cases as ``/access``, ``/allow``, ``/block``, ``/unlist`` and ``/invite``."""

from __future__ import annotations

from aiohttp import web

from bots.api import models as m
from bots.api import render
from bots.api.models import string
from bots.api.registry import Ctx, Endpoint, Param, endpoint, json_content

STATE = {200: ("The mode and the rules stored in the database", json_content(m.AccessState))}


async def _state(ctx: Ctx, mode: str = "") -> web.Response:
    view = await ctx.core.access.overview(ctx.user.caller, mode)
    rules = [m.AccessRuleView(subject=r.subject, verdict=r.verdict) for r in view.rules]
    return render.json(m.AccessState(mode=view.mode, rules=rules))


@endpoint("GET", "/access", tag="admin", admin=True, ok=STATE, summary="Access mode and rules")
async def get_access(ctx: Ctx) -> web.StreamResponse:
    return await _state(ctx)


@endpoint(
    "PUT",
    "/access/mode",
    tag="admin",
    admin=True,
    body=m.AccessMode,
    ok=STATE,
    summary="Open or close the bot for every worker (admin)",
)
async def put_mode(ctx: Ctx) -> web.StreamResponse:
    return await _state(ctx, ctx.body_as(m.AccessMode).mode)


@endpoint(
    "POST",
    "/access/rules",
    tag="admin",
    admin=True,
    body=m.AccessRule,
    ok=STATE,
    summary="Allow or block a person, account, chat, server, workspace or role (admin)",
)
async def post_rule(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.AccessRule)
    await ctx.core.access.set_rule(ctx.user.caller, body.subject, body.verdict)
    return await _state(ctx)


@endpoint(
    "DELETE",
    "/access/rules",
    tag="admin",
    admin=True,
    query=(Param("subject", string(300, 1), "the rule's subject"),),
    ok=STATE,
    summary="Remove a rule (admin)",
)
async def delete_rule(ctx: Ctx) -> web.StreamResponse:
    await ctx.core.access.unlist(ctx.user.caller, ctx.query.get("subject", ""))
    return await _state(ctx)


@endpoint(
    "POST",
    "/access/invites",
    tag="admin",
    admin=True,
    body=m.InviteRequest,
    ok={201: ("A new invitation code", json_content(m.Invite))},
    summary="An invitation code for N people (admin)",
)
async def post_invite(ctx: Ctx) -> web.StreamResponse:
    uses = ctx.body_as(m.InviteRequest).uses
    code = await ctx.core.access.invite(ctx.user.caller, str(uses))
    return render.json(m.Invite(code=code, uses=uses), status=201)


def routes() -> list[Endpoint]:
    return [get_access, put_mode, post_rule, delete_rule, post_invite]
