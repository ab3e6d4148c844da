"""The admin console's access section: the mode, the allow/block rules and invitation
codes, under ``/web/api/admin/access``. The same core use cases as ``/access``,
``/allow``, ``/block``, ``/unlist`` and ``/invite``: admins only (403 for anyone else),
and the writes pass the Origin check of bots.api.web.csrf like every ``/web/api/`` POST."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import Field

from bots.api.web import bodies
from bots.api.web.admin import _failure, _json, _refusal, _who
from core.errors import CoreError
from core.i18n import Translator
from core.services import Core
from core.services.access import MAX_INVITE_USES, MAX_SUBJECT
from core.services.requests import Caller

INVITES_SHOWN = 50


class ModeBody(bodies._Body):
    mode: Literal["open", "closed"]


class RuleBody(bodies._Body):
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    verdict: Literal["allow", "block"]


class UnlistBody(bodies._Body):
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)


class InviteBody(bodies._Body):
    uses: int = Field(ge=1, le=MAX_INVITE_USES)


async def _state(core: Core, caller: Caller, mode: str = "") -> dict[str, object]:
    overview = await core.access.overview(caller, mode)
    invites = await core.access.invites(caller, INVITES_SHOWN)
    return {
        "mode": overview.mode,
        "rules": [{"subject": r.subject, "verdict": r.verdict} for r in overview.rules],
        "invites": [{"code": i.code, "uses_left": i.uses_left} for i in invites],
    }


async def _answer(t: Translator, state: dict[str, object], word: str) -> web.Response:
    return _json({**state, "notice": t(word)})


async def access(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    try:
        return _json(await _state(core, user.caller))
    except CoreError as exc:
        return _failure(t, exc)


async def set_mode(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    body = await bodies.read(request, ModeBody)
    try:
        state = await _state(core, user.caller, body.mode)
    except CoreError as exc:
        return _refusal(t, exc)
    return await _answer(t, state, "web.admin_saved")


async def add_rule(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    body = await bodies.read(request, RuleBody)
    caller = user.caller
    try:
        await core.access.set_rule(caller, body.subject.strip(), body.verdict)
        state = await _state(core, caller)
    except CoreError as exc:
        return _refusal(t, exc)
    return await _answer(t, state, "web.admin_saved")


async def remove_rule(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    body = await bodies.read(request, UnlistBody)
    caller = user.caller
    try:
        await core.access.unlist(caller, body.subject.strip())
        state = await _state(core, caller)
    except CoreError as exc:
        return _refusal(t, exc)
    return await _answer(t, state, "web.admin_saved")


async def add_invite(request: web.Request) -> web.StreamResponse:
    core, user, t = await _who(request)
    body = await bodies.read(request, InviteBody)
    caller = user.caller
    try:
        code = await core.access.invite(caller, str(body.uses))
        state = await _state(core, caller)
    except CoreError as exc:
        return _refusal(t, exc)
    return _json({**state, "code": code, "notice": t("web.admin_invite_made", code=code)})


def add_access(app: web.Application) -> None:
    router = app.router
    router.add_get("/web/api/admin/access", access)
    router.add_post("/web/api/admin/access/mode", set_mode)
    router.add_post("/web/api/admin/access/rules", add_rule)
    router.add_post("/web/api/admin/access/rules/remove", remove_rule)
    router.add_post("/web/api/admin/access/invites", add_invite)
