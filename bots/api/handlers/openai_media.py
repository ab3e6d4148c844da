"""The OpenAI-compatible media endpoints under /v1: images, speech, transcriptions."""

from __future__ import annotations

import base64
import time

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import ValidationError

from bots.api import mapping, render
from bots.api import models_openai as oai
from bots.api.errors import ApiError, invalid
from bots.api.registry import Auth, Ctx, Endpoint, endpoint, json_content

KEY: Auth = "user_or_key"


@endpoint(
    "POST",
    "/v1/images/generations",
    tag="openai",
    summary="Generate an image (b64_json)",
    auth=KEY,
    body=oai.ImageRequest,
    ok={200: ("The image", json_content(oai.ImagesResponse))},
)
async def v1_images(ctx: Ctx) -> web.StreamResponse:
    request = mapping.image_request(ctx.user.caller, ctx.body_as(oai.ImageRequest))
    ready = await ctx.core.media.image(request)
    image = oai.Image(
        b64_json=base64.b64encode(ready.data).decode("ascii"), revised_prompt=ready.prompt
    )
    return render.json(oai.ImagesResponse(created=int(time.time()), data=[image]))


@endpoint(
    "POST",
    "/v1/audio/speech",
    tag="openai",
    summary="Text to speech (OGG/Opus)",
    auth=KEY,
    body=oai.SpeechRequest,
    ok={
        200: (
            "The audio",
            {"audio/ogg": {"type": "string", "contentMediaType": "audio/ogg"}},
        )
    },
)
async def v1_speech(ctx: Ctx) -> web.StreamResponse:
    request = mapping.speech_request(ctx.user.caller, ctx.body_as(oai.SpeechRequest))
    ready = await ctx.core.media.speech(request)
    return web.Response(body=ready.data, content_type="audio/ogg")


async def _read_form(
    request: web.Request, limit: int
) -> tuple[bytes, str, oai.TranscriptionFields]:
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data")
    audio: bytes | None = None
    filename, fields = "", {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if (
                not isinstance(part, BodyPartReader)
                or part.name not in oai.TranscriptionForm.model_fields
            ):
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
    try:
        return audio, filename, oai.TranscriptionFields.model_validate(fields)
    except ValidationError as exc:
        raise invalid(exc, "body") from None


@endpoint(
    "POST",
    "/v1/audio/transcriptions",
    tag="openai",
    summary="Speech to text",
    auth=KEY,
    form=oai.TranscriptionForm,
    ok={200: ("The transcript", json_content(oai.Transcription))},
)
async def v1_transcriptions(ctx: Ctx) -> web.StreamResponse:
    limit = ctx.core.config.max_audio_bytes
    audio, filename, fields = await _read_form(ctx.request, limit)
    request = mapping.transcription_request(ctx.user.caller, audio, filename, fields)
    transcript, _cost = await ctx.core.media.transcribe(request)
    return render.json(oai.Transcription(text=transcript.text))


def routes() -> list[Endpoint]:
    return [v1_images, v1_speech, v1_transcriptions]
