"""/v1 multipart routes passed through to the model's provider: image edits and
variations, audio translations. Every part goes upstream as sent but ``model``; the
upstream's answer comes back as it came (JSON, or text for srt/vtt/text)."""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ValidationError

from bots.api import models_gateway as gw
from bots.api.errors import ApiError, invalid
from bots.api.mapping import V1_CHAT, bound
from bots.api.registry import Auth, Ctx, Endpoint, endpoint, json_content
from core.ports import FormPart, RawAnswer
from core.services.gateway_paid import FormRequest

KEY: Auth = "user_or_key"
FIELD_LIMIT = 64 * 1024  # a text field; files are bounded by the upload limit


async def read_parts(request: web.Request, limit: int) -> tuple[FormPart, ...]:
    """Every part of a multipart body, files and fields, in order; 413 past ``limit``
    bytes in all."""
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data")
    parts: list[FormPart] = []
    total = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            name = part.name if isinstance(part, BodyPartReader) else None
            if not isinstance(part, BodyPartReader) or name is None or not _plain(name):
                raise ApiError(400, "bad_request", "a form field name must be plain ASCII")
            cap = limit - total if part.filename else min(FIELD_LIMIT, limit - total)
            value = b""
            while (more := await part.read_chunk(2**16)) and len(value) <= cap:
                value += more
            if len(value) > cap:
                raise ApiError(413, "body_too_large", f"at most {limit} bytes")
            total += len(value)
            content_type = part.headers.get("Content-Type") if part.filename else None
            parts.append(FormPart(name, value, part.filename, content_type))
    except (ValueError, AssertionError, LookupError, HttpProcessingError) as exc:
        raise ApiError(
            400, "bad_request", f"malformed multipart body: {type(exc).__name__}"
        ) from None
    return tuple(parts)


def _plain(name: str) -> bool:
    """A field name that can be written again as it came (ASCII, no quotes or controls)."""
    return bool(name) and all(" " <= c <= "~" and c not in '"\\' for c in name)


def checked(parts: tuple[FormPart, ...], fields: type[BaseModel], files: tuple[str, ...]) -> str:
    """Check the text fields against ``fields`` and that a file named one of ``files``
    came; the client's ``model`` (or "")."""
    values = {
        p.name: p.value.decode("utf-8", errors="replace") for p in parts if p.filename is None
    }
    if not any(p.filename is not None and p.name in files for p in parts):
        raise ApiError(400, "bad_request", f"body.{files[0]}: required (an uploaded file)")
    try:
        fields.model_validate(values)
    except ValidationError as exc:
        raise invalid(exc, "body") from None
    return values.get("model", "")


async def form_request(ctx: Ctx, fields: type[BaseModel], files: tuple[str, ...]) -> FormRequest:
    parts = await read_parts(ctx.request, ctx.deps.max_body_bytes)
    model = checked(parts, fields, files)
    return bound(FormRequest(ctx.user.caller, V1_CHAT, model=model or None, parts=parts))


def raw(answer: RawAnswer) -> web.Response:
    return web.Response(body=answer.body, content_type=answer.content_type or "text/plain")


@endpoint(
    "POST",
    "/v1/images/edits",
    tag="openai",
    summary="Edit an image (multipart), passed through; billed per image like generation",
    auth=KEY,
    form=gw.ImageEditForm,
    ok={200: ("The upstream's images", json_content(gw.IMAGES))},
)
async def v1_image_edits(ctx: Ctx) -> web.StreamResponse:
    request = await form_request(ctx, gw.ImageEditFields, ("image", "image[]"))
    return raw(await ctx.core.gateway_forms.images(request, "images/edits"))


@endpoint(
    "POST",
    "/v1/images/variations",
    tag="openai",
    summary="Variations of an image (multipart), passed through; billed per image",
    auth=KEY,
    form=gw.ImageVariationForm,
    ok={200: ("The upstream's images", json_content(gw.IMAGES))},
)
async def v1_image_variations(ctx: Ctx) -> web.StreamResponse:
    request = await form_request(ctx, gw.ImageVariationFields, ("image",))
    return raw(await ctx.core.gateway_forms.images(request, "images/variations"))


@endpoint(
    "POST",
    "/v1/audio/translations",
    tag="openai",
    summary="Speech to English text (multipart), passed through; billed per started minute",
    auth=KEY,
    form=gw.TranslationForm,
    ok={
        200: (
            "The translation: JSON, or text for response_format text, srt or vtt",
            {"application/json": gw.obj(text=gw.STRING), "text/plain": gw.STRING},
        )
    },
)
async def v1_translations(ctx: Ctx) -> web.StreamResponse:
    request = await form_request(ctx, gw.TranslationFields, ("file",))
    return raw(await ctx.core.gateway_forms.translation(request))


def routes() -> list[Endpoint]:
    return [v1_image_edits, v1_image_variations, v1_translations]
