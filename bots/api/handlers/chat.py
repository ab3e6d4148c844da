"""POST /ask (JSON or SSE), GET /messages, /messages/{id}, /balance, /models, /stats,
and linking with the accounts people have on the messengers (POST /link/code, POST /link)."""

from __future__ import annotations

from aiohttp import web

from bots.api import mapping, render
from bots.api import models_chat as mc
from bots.api.models import ID, integer, string
from bots.api.registry import Answers, Ctx, Endpoint, Param, endpoint, json_content
from bots.api.sink import EventStream, relay, whole
from core.types import Feature, TextDelta

ASK_OK: Answers = {
    200: (
        "The answer as JSON, or with `Accept: text/event-stream` as Server-Sent Events: "
        '`delta` events (`{"text"}`), then one `done` event (an AskResult), or one `error` '
        "event (an Error) when the model failed after the stream opened",
        {
            "application/json": mc.AskResult,
            "text/event-stream": {"type": "string"},
        },
    )
}


@endpoint(
    "POST",
    "/ask",
    tag="chat",
    body=mc.AskRequest,
    ok=ASK_OK,
    headers=(Param("Idempotency-Key", string(200, 1), "answered once per key"),),
    summary="Ask a question (model selectable; streams with Accept: text/event-stream)",
)
async def ask(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(mc.AskRequest)
    request = mapping.ask_request(ctx.user.caller, body, mapping.header_key(ctx.request, 150))
    core = ctx.core
    # Every refusal: an error status, nothing sent. A client gone meanwhile owes nothing.
    reply = await core.chat.start(request)
    async with reply:
        if not mapping.wants_events(ctx.request):
            done = await whole(reply)
            return render.json(render.ask_result(request.request_id, done))
        stream = EventStream(ctx.request)
        await stream.open()

        async def on_delta(delta: TextDelta) -> None:
            await stream.write(render.sse("delta", mc.Delta(text=delta.text)))

        finished = await relay(reply, stream, on_delta, render.sse_error)
        if finished is not None:
            await stream.write(render.sse("done", render.ask_result(request.request_id, finished)))
        return await stream.close()


@endpoint(
    "GET",
    "/messages",
    tag="chat",
    summary="Last requests with answers, newest first",
    query=(
        Param("limit", integer(1, 100)),
        Param("user_id", ID, "another account (admin)"),
    ),
    ok={200: ("Exchanges", json_content(mc.ExchangeList))},
)
async def list_messages(ctx: Ctx) -> web.StreamResponse:
    items = await ctx.core.admin.messages(
        ctx.user, ctx.query.get("user_id"), ctx.query.get("limit", 3)
    )
    return render.json(mc.ExchangeList(items=[render.exchange(e) for e in items]))


@endpoint(
    "GET",
    "/messages/{id}",
    tag="chat",
    path_params=(Param("id", string(100, 1)),),
    summary="One request and its answer (own, or any for admins)",
    ok={200: ("The exchange", json_content(mc.Exchange))},
)
async def get_message(ctx: Ctx) -> web.StreamResponse:
    account_id, item = await ctx.core.admin.message(ctx.user, ctx.query["id"])
    return render.json(render.exchange(item, account_id))


@endpoint(
    "GET",
    "/balance",
    tag="chat",
    summary="The caller's balance",
    ok={200: ("Balance", json_content(mc.Balance))},
)
async def get_balance(ctx: Ctx) -> web.StreamResponse:
    account = await ctx.core.conversations.balance(ctx.user.caller)
    return render.json(render.balance(account))


@endpoint(
    "POST",
    "/link/code",
    tag="chat",
    summary="A one-time code to type as `/link CODE` in Telegram, Discord or Slack",
    ok={200: ("The code and its lifetime in seconds", json_content(mc.LinkCode))},
)
async def create_link_code(ctx: Ctx) -> web.StreamResponse:
    core = ctx.core
    code = await core.accounts.create_link_code(ctx.user.caller)
    return render.json(mc.LinkCode(code=code, expires_in=core.config.link_code_ttl_s))


@endpoint(
    "POST",
    "/link",
    tag="chat",
    body=mc.LinkRequest,
    summary="Join this account into the one that asked for the code (from any app)",
    ok={200: ("The balance of the joined account", json_content(mc.Balance))},
)
async def link_account(ctx: Ctx) -> web.StreamResponse:
    code = ctx.body_as(mc.LinkRequest).code
    account = await ctx.core.accounts.link(ctx.user.caller, code)
    return render.json(render.balance(account))


@endpoint(
    "GET",
    "/models",
    tag="chat",
    summary="Models the caller may use, with prices",
    ok={200: ("Models", json_content(mc.ModelList))},
)
async def list_models(ctx: Ctx) -> web.StreamResponse:
    catalog, role = ctx.core.models, ctx.user.account.role
    items = [render.model(m) for kind in Feature for m in catalog.usable(role, kind)]
    return render.json(mc.ModelList(items=items))


@endpoint(
    "GET",
    "/stats",
    tag="admin",
    admin=True,
    summary="Requests, tokens, credits and errors (admin)",
    ok={
        200: (
            "Today and the last 30 days, by day/model/platform/feature",
            json_content(mc.Stats),
        )
    },
)
async def get_stats(ctx: Ctx) -> web.StreamResponse:
    report = await ctx.core.admin.stats(ctx.user.caller)
    return render.json(render.stats(report))


def routes() -> list[Endpoint]:
    return [
        ask,
        list_messages,
        get_message,
        get_balance,
        create_link_code,
        link_account,
        list_models,
        get_stats,
    ]
