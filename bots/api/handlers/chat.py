"""POST /ask (JSON or SSE), GET /messages, /messages/{id}, /balance, /models, /stats,
and linking with the accounts people have on the messengers (POST /link/code, POST /link)."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field

from bots.api import mapping, render
from bots.api import models_chat as m
from bots.api.models import Id
from bots.api.registry import Answers, Ctx, Endpoint, Param, json_content
from bots.api.sink import EventStream, relay, whole
from core.types import Feature, TextDelta

ASK_OK: Answers = {
    200: (
        "The answer as JSON, or with `Accept: text/event-stream` as Server-Sent Events: "
        '`delta` events (`{"text"}`), then one `done` event (an AskResult), or one `error` '
        "event (an Error) when the model failed after the stream opened",
        {"application/json": m.AskResult, "text/event-stream": {"type": "string"}},
    )
}
KEY = Annotated[str, Field(min_length=1, max_length=200)]


async def ask(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.AskRequest)
    request = mapping.ask_request(ctx.user.caller, body, mapping.header_key(ctx.request, 150))
    reply = await ctx.services.core.chat.start(request)  # every refusal: an error status
    async with reply:
        if not mapping.wants_events(ctx.request):
            done = await whole(reply)
            return render.json(render.ask_result(request.request_id, done))
        stream = EventStream(ctx.request)
        await stream.open()

        async def on_delta(delta: TextDelta) -> None:
            await stream.write(render.sse("delta", m.Delta(text=delta.text)))

        finished = await relay(reply, stream, on_delta, render.sse_error)
        if finished is not None:
            await stream.write(render.sse("done", render.ask_result(request.request_id, finished)))
        return await stream.close()


async def list_messages(ctx: Ctx) -> web.StreamResponse:
    items = await ctx.services.admin.messages(
        ctx.user, ctx.query.get("user_id"), ctx.query.get("limit", 3)
    )
    return render.json(m.ExchangeList(items=[render.exchange(e) for e in items]))


async def get_message(ctx: Ctx) -> web.StreamResponse:
    account_id, item = await ctx.services.admin.message(ctx.user, ctx.query["id"])
    return render.json(render.exchange(item, account_id))


async def get_balance(ctx: Ctx) -> web.StreamResponse:
    account = await ctx.services.core.conversations.balance(ctx.user.caller)
    return render.json(render.balance(account))


async def create_link_code(ctx: Ctx) -> web.StreamResponse:
    core = ctx.services.core
    code = await core.accounts.create_link_code(ctx.user.caller)
    return render.json(m.LinkCode(code=code, expires_in=core.config.link_code_ttl_s))


async def link_account(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(m.LinkRequest)
    account = await ctx.services.core.accounts.link(ctx.user.caller, body.code)
    return render.json(render.balance(account))


async def list_models(ctx: Ctx) -> web.StreamResponse:
    catalog, role = ctx.services.core.models, ctx.user.account.role
    items = [render.model(spec) for kind in Feature for spec in catalog.usable(role, kind)]
    return render.json(m.ModelList(items=items))


async def get_stats(ctx: Ctx) -> web.StreamResponse:
    report = await ctx.services.core.admin.stats(ctx.user.caller)
    return render.json(render.stats(report))


def routes() -> list[Endpoint]:
    return [
        Endpoint(
            "POST",
            "/ask",
            ask,
            tag="chat",
            summary="Ask a question (model selectable; streams with Accept: text/event-stream)",
            body=m.AskRequest,
            ok=ASK_OK,
            headers=(Param("Idempotency-Key", KEY, "answered once per key"),),
        ),
        Endpoint(
            "GET",
            "/messages",
            list_messages,
            tag="chat",
            summary="Last requests with answers, newest first",
            query=(
                Param("limit", Annotated[int, Field(ge=1, le=100)]),
                Param("user_id", Id, "another account (admin)"),
            ),
            ok={200: ("Exchanges", json_content(m.ExchangeList))},
        ),
        Endpoint(
            "GET",
            "/messages/{id}",
            get_message,
            tag="chat",
            summary="One request and its answer (own, or any for admins)",
            path_params=(Param("id", Annotated[str, Field(min_length=1, max_length=100)]),),
            ok={200: ("The exchange", json_content(m.Exchange))},
        ),
        Endpoint(
            "GET",
            "/balance",
            get_balance,
            tag="chat",
            summary="The caller's balance",
            ok={200: ("Balance", json_content(m.Balance))},
        ),
        Endpoint(
            "POST",
            "/link/code",
            create_link_code,
            tag="chat",
            summary="A one-time code to type as `/link CODE` in Telegram, Discord or Slack",
            ok={200: ("The code and its lifetime in seconds", json_content(m.LinkCode))},
        ),
        Endpoint(
            "POST",
            "/link",
            link_account,
            tag="chat",
            summary="Join this account into the one that asked for the code (from any app)",
            body=m.LinkRequest,
            ok={200: ("The balance of the joined account", json_content(m.Balance))},
        ),
        Endpoint(
            "GET",
            "/models",
            list_models,
            tag="chat",
            summary="Models the caller may use, with prices",
            ok={200: ("Models", json_content(m.ModelList))},
        ),
        Endpoint(
            "GET",
            "/stats",
            get_stats,
            tag="admin",
            summary="Requests, tokens, credits and errors (admin)",
            ok={
                200: (
                    "Today and the last 30 days, by day/model/platform/feature",
                    json_content(m.Stats),
                )
            },
        ),
    ]
