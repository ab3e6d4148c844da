"""The OpenAI-compatible gateway under /v1, billed to the caller like any chat request."""

from __future__ import annotations

import base64
import json
import time

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from bots.api.errors import ApiError
from bots.api.mapping import prompt_from_messages
from bots.api.registry import Ctx, endpoint, json_content
from bots.api.schemas import ref
from bots.api.schemas_openai import OPENAI_SCHEMAS
from bots.api.streams import answer, sse_response, stream
from bots.api.validation import Invalid, validate
from core.services.requests import ChatRequest, ImageRequest, SpeechRequest, TranscriptionRequest
from core.types import Feature, Outcome, TextDelta, TextDone

KEY = "user_or_key"


def _usage(done: TextDone) -> dict[str, int]:
    p, c = done.usage.prompt_tokens, done.usage.completion_tokens
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _finish(done: TextDone) -> str:
    return "stop" if done.outcome is Outcome.OK else "length"


@endpoint(
    "GET",
    "/v1/models",
    tag="openai",
    auth=KEY,
    summary="Models (OpenAI format)",
    ok={200: ("Models", json_content(ref("OpenAIModelList")))},
)
async def v1_models(ctx: Ctx) -> web.StreamResponse:
    catalog, role = ctx.services.core.models, ctx.user.account.role
    data = [
        {"id": m.name, "object": "model", "created": 0, "owned_by": "switchboard"}
        for kind in Feature
        for m in catalog.usable(role, kind)
    ]
    return web.json_response({"object": "list", "data": data})


@endpoint(
    "POST",
    "/v1/chat/completions",
    tag="openai",
    auth=KEY,
    body="ChatCompletionRequest",
    summary="Chat completion, streamed (SSE chunks) or not, with usage",
    ok={
        200: (
            "A chat.completion, or chat.completion.chunk events when streaming",
            {
                "application/json": {"schema": ref("ChatCompletion")},
                "text/event-stream": {"schema": {"type": "string"}},
            },
        )
    },
)
async def v1_chat(ctx: Ctx) -> web.StreamResponse:
    body = ctx.body
    request = ChatRequest(
        caller=ctx.user.caller,
        chat_id=f"v1:{ctx.user.credential.username}",
        text=prompt_from_messages(body["messages"]),
        model=body["model"],
    )
    cid, created = f"chatcmpl-{request.request_id}", int(time.time())
    if not body.get("stream"):
        done = await answer(ctx.services.core, request)
        message = {"role": "assistant", "content": done.text}
        return web.json_response(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": _finish(done)}],
                "usage": _usage(done),
            }
        )
    response = sse_response()

    def chunk(delta: dict[str, str], finish: str | None) -> bytes:
        data = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body["model"],
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

    first = True

    async def on_delta(delta: TextDelta) -> None:
        nonlocal first
        await response.write(
            chunk(
                {"role": "assistant", "content": delta.text} if first else {"content": delta.text},
                None,
            )
        )
        first = False

    done = await stream(ctx.services.core, request, ctx.request, response, on_delta)
    await response.write(chunk({}, _finish(done)))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body["model"],
            "choices": [],
            "usage": _usage(done),
        }
        await response.write(f"data: {json.dumps(usage)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


@endpoint(
    "POST",
    "/v1/images/generations",
    tag="openai",
    auth=KEY,
    body="ImageRequest",
    summary="Generate an image (b64_json)",
    ok={200: ("The image", json_content(ref("ImagesResponse")))},
)
async def v1_images(ctx: Ctx) -> web.StreamResponse:
    ready = await ctx.services.core.media.image(
        ImageRequest(ctx.user.caller, "v1", prompt=ctx.body["prompt"], model=ctx.body.get("model"))
    )
    data = [
        {"b64_json": base64.b64encode(ready.data).decode("ascii"), "revised_prompt": ready.prompt}
    ]
    return web.json_response({"created": int(time.time()), "data": data})


@endpoint(
    "POST",
    "/v1/audio/speech",
    tag="openai",
    auth=KEY,
    body="SpeechRequest",
    summary="Text to speech (OGG/Opus)",
    ok={
        200: (
            "The audio",
            {"audio/ogg": {"schema": {"type": "string", "contentMediaType": "audio/ogg"}}},
        )
    },
)
async def v1_speech(ctx: Ctx) -> web.StreamResponse:
    ready = await ctx.services.core.media.speech(
        SpeechRequest(ctx.user.caller, "v1", text=ctx.body["input"], model=ctx.body.get("model"))
    )
    return web.Response(body=ready.data, content_type="audio/ogg")


_FORM = OPENAI_SCHEMAS["TranscriptionForm"]


async def _read_form(request: web.Request, limit: int) -> tuple[bytes, str, dict[str, str]]:
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data")
    audio: bytes | None = None
    filename, fields = "", {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name not in _FORM["properties"]:
                raise ApiError(400, "bad_request", "unknown form field")
            if part.name == "file":
                if not part.filename:  # a plain form field, not an uploaded file
                    raise ApiError(400, "bad_request", "body.file: must be an uploaded file")
                filename = part.filename
                audio = b""
                while len(audio) <= limit and (more := await part.read_chunk(2**16)):
                    audio += more
            else:
                fields[part.name] = (await part.read_chunk(4096)).decode("utf-8")
    except (ValueError, AssertionError, LookupError, HttpProcessingError) as exc:
        raise ApiError(
            400, "bad_request", f"malformed multipart body: {type(exc).__name__}"
        ) from None
    if audio is None:
        raise ApiError(400, "bad_request", "body.file: required")
    for name, value in fields.items():
        try:
            validate(value, _FORM["properties"][name], f"body.{name}", {})
        except Invalid as exc:
            raise ApiError(400, "bad_request", str(exc)) from None
    return audio, filename, fields


@endpoint(
    "POST",
    "/v1/audio/transcriptions",
    tag="openai",
    auth=KEY,
    body="multipart:TranscriptionForm",
    summary="Speech to text",
    ok={200: ("The transcript", json_content(ref("Transcription")))},
)
async def v1_transcriptions(ctx: Ctx) -> web.StreamResponse:
    limit = ctx.services.core.config.max_audio_bytes
    audio, filename, fields = await _read_form(ctx.request, limit)
    transcript, _cost = await ctx.services.core.media.transcribe(
        TranscriptionRequest(
            ctx.user.caller, "v1", audio=audio, filename=filename, model=fields.get("model") or None
        )
    )
    return web.json_response({"text": transcript.text})
