"""Announcements over HTTP: an admin's draft (with how many people it reaches), sending
it, and its delivery report; and each person's opt-out (``/mute announcements``)."""

from __future__ import annotations

from aiohttp import web

from bots.api import models as m
from bots.api import render
from bots.api.models import ID
from bots.api.registry import Ctx, Endpoint, Param, endpoint, json_content
from core.services.announcements import Draft

DRAFT = {200: ("The draft (or the broadcast started)", json_content(m.BroadcastDraft))}
ID_PARAM = (Param("id", ID, "broadcast id"),)


def _draft(draft: Draft) -> web.Response:
    return render.json(
        m.BroadcastDraft(id=draft.id, text=draft.text, audience=draft.audience, people=draft.people)
    )


@endpoint(
    "POST",
    "/broadcasts",
    tag="admin",
    admin=True,
    body=m.BroadcastRequest,
    ok=DRAFT,
    summary="Draft an announcement to everyone, a role or a platform (admin)",
)
async def post_broadcast(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.BroadcastRequest)
    args = f"{body.audience or ''} {body.text}"
    return _draft(await ctx.core.announcements.draft(ctx.user.caller, args))


@endpoint(
    "POST",
    "/broadcasts/{id}/send",
    tag="admin",
    admin=True,
    path_params=ID_PARAM,
    ok=DRAFT,
    summary="Send a drafted announcement; a second call is 404 (admin)",
)
async def send_broadcast(ctx: Ctx) -> web.StreamResponse:
    return _draft(await ctx.core.announcements.confirm(ctx.user.caller, ctx.query["id"]))


@endpoint(
    "GET",
    "/broadcasts/{id}",
    tag="admin",
    admin=True,
    path_params=ID_PARAM,
    ok={200: ("The broadcast's deliveries so far", json_content(m.BroadcastStatus))},
    summary="A broadcast's delivery report (admin)",
)
async def get_broadcast(ctx: Ctx) -> web.StreamResponse:
    found, counts = await ctx.core.announcements.status(ctx.user.caller, ctx.query["id"])
    state = found.state if found.state in ("draft", "sending", "done") else "draft"
    return render.json(m.BroadcastStatus(id=found.id, state=state, deliveries=counts))  # type: ignore[arg-type]


@endpoint(
    "PUT",
    "/users/me/announcements",
    tag="users",
    body=m.AnnouncementsChoice,
    ok={204: ("Saved", {})},
    summary="Opt out of (or back into) announcements",
)
async def put_announcements(ctx: Ctx) -> web.StreamResponse:
    await ctx.core.access.set_muted(ctx.user.caller, ctx.body_as(m.AnnouncementsChoice).muted)
    return web.Response(status=204)


def routes() -> list[Endpoint]:
    return [post_broadcast, send_broadcast, get_broadcast, put_announcements]
