"""/v1 routes passed through to the model's provider: one model, embeddings, legacy
completions and the Responses API (streamed or not). The body goes upstream as the
client sent it but for ``model``; the answer comes back as the upstream gave it."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bots.api import models_gateway as gw
from bots.api import models_openai as oai
from bots.api import render
from bots.api.errors import ApiError
from bots.api.mapping import V1_CHAT, bound
from bots.api.models import string
from bots.api.registry import Auth, Ctx, Endpoint, Param, endpoint, json_content
from bots.api.sink import EventStream
from core.errors import CoreError, UnknownModel
from core.services.gateway_calls import COMPLETIONS, RESPONSES, Route
from core.services.gateway_paid import RelayRequest

KEY: Auth = "user_or_key"
SSE = {"type": "string"}


async def relay_request(ctx: Ctx, model: str) -> RelayRequest:
    """The body exactly as sent (already checked against the endpoint's model)."""
    try:
        raw: Any = json.loads(await ctx.request.read())
    except ValueError:
        raise ApiError(400, "bad_request", "the body is not valid JSON") from None
    return bound(RelayRequest(ctx.user.caller, V1_CHAT, model=model, body=raw))


async def forward(ctx: Ctx, route: Route, request: RelayRequest) -> web.StreamResponse:
    """A streamed answer: refusals and upstream error statuses raise before it opens;
    an upstream failure after that is the stream's last event, as OpenAI sends one."""
    stream = await ctx.core.gateway.stream(route, request)
    async with stream:
        out = EventStream(ctx.request)
        await out.open()
        try:
            async for data in stream:
                await out.write(data)
        except CoreError as exc:
            await out.write(render.sse_data_error(exc))
        return await out.close()


async def generate(ctx: Ctx, route: Route, model: str, stream: bool) -> web.StreamResponse:
    """A text generation route passed through: its events as they come, or the whole."""
    request = await relay_request(ctx, model)
    if stream:
        return await forward(ctx, route, request)
    return web.json_response(await ctx.core.gateway.whole(route, request))


@endpoint(
    "GET",
    "/v1/models/{id}",
    tag="openai",
    summary="One model (OpenAI format); 404 if unknown or not usable by the caller (role, key)",
    auth=KEY,
    path_params=(Param("id", string(200, 1), "the model's id"),),
    ok={200: ("The model", json_content(gw.MODEL))},
)
async def v1_model(ctx: Ctx) -> web.StreamResponse:
    name = str(ctx.query["id"])
    # The same list as GET /v1/models: a key limited to some models sees only those.
    usable = {m.name: m for m in ctx.core.api_keys.usable_models(ctx.user)}
    spec = usable.get(name)
    if spec is None:
        raise UnknownModel(model=name)
    return render.json(oai.OpenAIModel(id=spec.name))


@endpoint(
    "POST",
    "/v1/embeddings",
    tag="openai",
    summary="Embeddings, passed through; billed per 1,000 input tokens",
    auth=KEY,
    body=gw.EmbeddingsRequest,
    ok={200: ("The upstream's embeddings", json_content(gw.EMBEDDINGS))},
)
async def v1_embeddings(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(gw.EmbeddingsRequest)
    request = await relay_request(ctx, body.model)
    return web.json_response(await ctx.core.gateway.embeddings(request))


@endpoint(
    "POST",
    "/v1/completions",
    tag="openai",
    summary="Legacy text completion, passed through, streamed or not; billed from usage",
    auth=KEY,
    body=gw.CompletionRequest,
    ok={
        200: (
            "A text_completion, or its chunks as Server-Sent Events when streaming",
            {"application/json": gw.COMPLETION, "text/event-stream": SSE},
        )
    },
)
async def v1_completions(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(gw.CompletionRequest)
    return await generate(ctx, COMPLETIONS, body.model, bool(body.stream))


@endpoint(
    "POST",
    "/v1/responses",
    tag="openai",
    summary="Responses API, passed through, streamed or not; billed from its usage",
    auth=KEY,
    body=gw.ResponseRequest,
    ok={
        200: (
            "A response, or the upstream's events as Server-Sent Events when streaming",
            {"application/json": gw.RESPONSE, "text/event-stream": SSE},
        )
    },
)
async def v1_responses(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(gw.ResponseRequest)
    return await generate(ctx, RESPONSES, body.model, bool(body.stream))


def routes() -> list[Endpoint]:
    return [v1_model, v1_embeddings, v1_completions, v1_responses]
