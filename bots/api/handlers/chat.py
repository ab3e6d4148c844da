"""POST /ask (JSON or SSE), GET /messages, /messages/{id}, /balance, /models, /stats,
and linking with the accounts people have on the messengers (POST /link/code, POST /link)."""

from __future__ import annotations

from aiohttp import web

from bots.api import render
from bots.api.registry import Ctx, Param, endpoint, json_content
from bots.api.schemas import ID, ref, string
from bots.api.streams import answer, sse_response, stream
from core.services.requests import ChatRequest
from core.types import Feature, TextDelta

ASK_OK = {
    200: (
        "The answer as JSON, or with `Accept: text/event-stream` as Server-Sent Events: "
        '`delta` events (`{"text"}`), then one `done` event (an AskResult)',
        {
            "application/json": {"schema": ref("AskResult")},
            "text/event-stream": {"schema": {"type": "string"}},
        },
    )
}


@endpoint(
    "POST",
    "/ask",
    tag="chat",
    body="AskRequest",
    ok=ASK_OK,
    headers=(Param("Idempotency-Key", string(200, 1), "answered once per key"),),
    summary="Ask a question (model selectable; streams with Accept: text/event-stream)",
)
async def ask(ctx: Ctx) -> web.StreamResponse:
    request = ChatRequest(
        caller=ctx.user.caller,
        chat_id=ctx.body.get("chat_id", "api"),
        text=ctx.body["text"],
        model=ctx.body.get("model"),
        event_id=ctx.request.headers.get("Idempotency-Key", "").strip()[:150] or None,
    )
    core = ctx.services.core
    if "text/event-stream" not in ctx.request.headers.get("Accept", ""):
        done = await answer(core, request)
        return web.json_response(render.ask_result(request.request_id, done))
    response = sse_response()

    async def on_delta(delta: TextDelta) -> None:
        await response.write(render.sse("delta", {"text": delta.text}))

    done = await stream(core, request, ctx.request, response, on_delta)
    await response.write(render.sse("done", render.ask_result(request.request_id, done)))
    await response.write_eof()
    return response


@endpoint(
    "GET",
    "/messages",
    tag="chat",
    summary="Last requests with answers, newest first",
    query=(
        Param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
        Param("user_id", ID, "another account (admin)"),
    ),
    ok={200: ("Exchanges", json_content(ref("ExchangeList")))},
)
async def list_messages(ctx: Ctx) -> web.StreamResponse:
    items = await ctx.services.admin.messages(
        ctx.user, ctx.query.get("user_id"), ctx.query.get("limit", 3)
    )
    return web.json_response({"items": [render.exchange(e) for e in items]})


@endpoint(
    "GET",
    "/messages/{id}",
    tag="chat",
    path_params=(Param("id", string(100, 1)),),
    summary="One request and its answer (own, or any for admins)",
    ok={200: ("The exchange", json_content(ref("Exchange")))},
)
async def get_message(ctx: Ctx) -> web.StreamResponse:
    account_id, item = await ctx.services.admin.message(ctx.user, ctx.query["id"])
    return web.json_response(render.exchange(item, account_id))


@endpoint(
    "GET",
    "/balance",
    tag="chat",
    summary="The caller's balance",
    ok={200: ("Balance", json_content(ref("Balance")))},
)
async def get_balance(ctx: Ctx) -> web.StreamResponse:
    account = await ctx.services.core.conversations.balance(ctx.user.caller)
    return web.json_response(render.balance(account))


@endpoint(
    "POST",
    "/link/code",
    tag="chat",
    summary="A one-time code to type as `/link CODE` in Telegram, Discord or Slack",
    ok={200: ("The code and its lifetime in seconds", json_content(ref("LinkCode")))},
)
async def create_link_code(ctx: Ctx) -> web.StreamResponse:
    core = ctx.services.core
    code = await core.accounts.create_link_code(ctx.user.caller)
    return web.json_response({"code": code, "expires_in": core.config.link_code_ttl_s})


@endpoint(
    "POST",
    "/link",
    tag="chat",
    body="LinkRequest",
    summary="Join this account into the one that asked for the code (from any app)",
    ok={200: ("The balance of the joined account", json_content(ref("Balance")))},
)
async def link_account(ctx: Ctx) -> web.StreamResponse:
    account = await ctx.services.core.accounts.link(ctx.user.caller, ctx.body["code"])
    return web.json_response(render.balance(account))


@endpoint(
    "GET",
    "/models",
    tag="chat",
    summary="Models the caller may use, with prices",
    ok={200: ("Models", json_content(ref("ModelList")))},
)
async def list_models(ctx: Ctx) -> web.StreamResponse:
    catalog, role = ctx.services.core.models, ctx.user.account.role
    items = [render.model(m) for kind in Feature for m in catalog.usable(role, kind)]
    return web.json_response({"items": items})


@endpoint(
    "GET",
    "/stats",
    tag="admin",
    summary="Requests, tokens, credits and errors (admin)",
    ok={
        200: (
            "Today and the last 30 days, by day/model/platform/feature",
            json_content(ref("Stats")),
        )
    },
)
async def get_stats(ctx: Ctx) -> web.StreamResponse:
    report = await ctx.services.core.admin.stats(ctx.user.caller)
    return web.json_response(render.stats(report))
