"""The OpenAI-compatible gateway under /v1, billed to the caller like any chat request:
the model list and chat completions (streamed or not); media in ``openai_media``."""

from __future__ import annotations

import time

from aiohttp import web

from bots.api import mapping, render
from bots.api import models_openai as oai
from bots.api.errors import core_error, error_body
from bots.api.registry import Auth, Ctx, Endpoint, json_content
from bots.api.sink import EventStream, relay, whole
from core.errors import CoreError
from core.types import Feature, Outcome, TextDelta, TextDone

KEY: Auth = "user_or_key"


def _finish(done: TextDone) -> str:
    return "stop" if done.outcome is Outcome.OK else "length"


def _sse_error(exc: CoreError) -> bytes:
    # OpenAI's clients read a data object with an "error" key as a failed stream.
    _status, code, message = core_error(exc)
    return render.sse_data(error_body(code, message))


async def v1_models(ctx: Ctx) -> web.StreamResponse:
    catalog, role = ctx.services.core.models, ctx.user.account.role
    data = [oai.OpenAIModel(id=m.name) for kind in Feature for m in catalog.usable(role, kind)]
    return render.json(oai.OpenAIModelList(data=data))


async def v1_chat(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body_as(oai.ChatCompletionRequest)
    user = ctx.user
    request = mapping.completion_request(user.caller, user.credential.username, body)
    cid, created = f"chatcmpl-{request.request_id}", int(time.time())
    reply = await ctx.services.core.chat.start(request)  # every refusal: an error status
    async with reply:
        if not body.stream:
            done = await whole(reply)
            message = oai.ChatMessage(role="assistant", content=done.text)
            choice = oai.Choice(index=0, message=message, finish_reason=_finish(done))
            usage = render.usage(done.usage)
            completion = oai.ChatCompletion(
                id=cid, created=created, model=body.model, choices=[choice], usage=usage
            )
            return render.json(completion)

        def chunk(delta: oai.ChunkDelta, finish: str | None) -> bytes:
            choice = oai.ChunkChoice(index=0, delta=delta, finish_reason=finish)
            return render.sse_data(
                oai.ChatCompletionChunk(id=cid, created=created, model=body.model, choices=[choice])
            )

        stream = EventStream(ctx.request)
        await stream.open()
        first = True

        async def on_delta(delta: TextDelta) -> None:
            nonlocal first
            role = "assistant" if first else None
            await stream.write(chunk(oai.ChunkDelta(role=role, content=delta.text), None))
            first = False

        finished = await relay(reply, stream, on_delta, _sse_error)
        if finished is not None:
            await stream.write(chunk(oai.ChunkDelta(), _finish(finished)))
            if body.stream_options is not None and body.stream_options.include_usage:
                last = oai.ChatCompletionChunk(
                    id=cid,
                    created=created,
                    model=body.model,
                    choices=[],
                    usage=render.usage(finished.usage),
                )
                await stream.write(render.sse_data(last))
            await stream.write(render.sse_data("[DONE]"))
        return await stream.close()


def routes() -> list[Endpoint]:
    return [
        Endpoint(
            "GET",
            "/v1/models",
            v1_models,
            tag="openai",
            summary="Models (OpenAI format)",
            auth=KEY,
            ok={200: ("Models", json_content(oai.OpenAIModelList))},
        ),
        Endpoint(
            "POST",
            "/v1/chat/completions",
            v1_chat,
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
        ),
    ]
