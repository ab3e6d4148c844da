"""The OpenAI-compatible gateway under /v1, billed to the caller like any chat request:
the model list and chat completions (streamed or not); media in ``openai_media``."""

from __future__ import annotations

import time

from aiohttp import web

from bots.api import mapping, render, render_openai
from bots.api import models_openai as oai
from bots.api.registry import Auth, Ctx, Endpoint, endpoint, json_content
from bots.api.sink import EventStream, relay, whole
from core.types import TextDelta

KEY: Auth = "user_or_key"


@endpoint(
    "GET",
    "/v1/models",
    tag="openai",
    summary="Models (OpenAI format)",
    auth=KEY,
    ok={200: ("Models", json_content(oai.OpenAIModelList))},
)
async def v1_models(ctx: Ctx) -> web.StreamResponse:
    data = [oai.OpenAIModel(id=m.name) for m in ctx.core.api_keys.usable_models(ctx.user)]
    return render.json(oai.OpenAIModelList(data=data))


@endpoint(
    "POST",
    "/v1/chat/completions",
    tag="openai",
    summary="Chat completion, streamed (SSE chunks) or not, with usage",
    auth=KEY,
    body=oai.ChatCompletionRequest,
    ok={
        200: (
            "A chat.completion, or chat.completion.chunk events when streaming",
            {
                "application/json": oai.ChatCompletion,
                "text/event-stream": {"type": "string"},
            },
        )
    },
)
async def v1_chat(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(oai.ChatCompletionRequest)
    user = ctx.user
    request = mapping.completion_request(user.caller, user.credential.username, body)
    shape = render_openai.Completion(f"chatcmpl-{request.request_id}", int(time.time()), body.model)
    reply = await ctx.core.chat.start(request)  # every refusal: an error status
    async with reply:
        if not body.stream:
            return render.json(shape.whole(await whole(reply)))
        stream = EventStream(ctx.request)
        await stream.open()
        first = True

        async def on_delta(delta: TextDelta) -> None:
            nonlocal first
            role = "assistant" if first else None  # OpenAI names the role once
            first = False
            await stream.write(shape.chunk(oai.ChunkDelta(role=role, content=delta.text)))

        finished = await relay(reply, stream, on_delta, render.sse_data_error)
        if finished is not None:
            await stream.write(shape.last(finished))
            if body.stream_options is not None and body.stream_options.include_usage:
                await stream.write(shape.usage(finished))
            await stream.write(render.sse_data("[DONE]"))
        return await stream.close()


def routes() -> list[Endpoint]:
    return [v1_models, v1_chat]
