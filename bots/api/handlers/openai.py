"""The OpenAI-compatible gateway under /v1, billed to the caller like any chat request:
the model list and chat completions (streamed or not), passed through to the upstream
(``core.services.gateway``); media in ``openai_media``."""

from __future__ import annotations

import logging

from aiohttp import web

from bots.api import errors_openai, mapping, render, render_openai
from bots.api import models_openai as oai
from bots.api.registry import Auth, Ctx, Endpoint, endpoint, json_content
from bots.api.sink import EventStream
from bots.views import error_text
from core.errors import CoreError, UpstreamError
from core.i18n import Translator

logger = logging.getLogger(__name__)

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
    ctx.body_as(oai.ChatCompletionRequest)  # the few fields the gateway reads are sound
    request = mapping.gateway_request(ctx.user.caller, await ctx.request.read())
    body = request.body
    reply = await ctx.core.chat_gateway.start(request)  # every refusal: an error status
    async with reply:
        if body.get("stream") is not True:
            async for completion in reply.events:
                return render_openai.whole(completion, reply.request_id)
            raise RuntimeError("the upstream answered nothing")
        events = reply.events
        # The first chunk before the status: an upstream that refuses or fails before any
        # output is answered with an error status the client's SDK can raise as such.
        first = await anext(events, None)
        stream = EventStream(ctx.request)
        stream.response.headers[render_openai.REQUEST_ID] = reply.request_id
        await stream.open()
        sent, failed = False, False
        try:
            if first is not None:
                await stream.write(render_openai.chunk(first))
                sent, failed = True, "error" in first
            async for chunk in events:
                await stream.write(render_openai.chunk(chunk))
                failed = "error" in chunk  # the upstream's own error event ends it
        except CoreError as exc:  # the status is sent: the error is the last event
            logger.info("/v1 stream ended by %s", exc.key)
            english = Translator("en")
            # After output "nothing was charged" would be false: what arrived is paid for.
            cut = sent and isinstance(exc, UpstreamError)
            message = english("reply.cut") if cut else error_text(english, exc)
            await stream.write(errors_openai.stream_error(exc, message))
            return await stream.close()
        if not failed:  # as OpenAI does: no [DONE] after an error event
            await stream.write(render.sse_data("[DONE]"))
        return await stream.close()


def routes() -> list[Endpoint]:
    return [v1_models, v1_chat]
