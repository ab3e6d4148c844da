"""/v1/files relayed to the provider; each file is seen and read only by the account
that uploaded it (anyone else gets 404, as for a file that does not exist). Every call
counts against the caller's request limits, the API key's included; an upload is billed
when GATEWAY_FILE_CREDITS_PER_MB prices it."""

from __future__ import annotations

from aiohttp import web

from bots.api import models_gateway as gw
from bots.api.handlers.openai_forms import checked, raw, read_parts
from bots.api.mapping import V1_CHAT, bound
from bots.api.models import integer, string
from bots.api.registry import Auth, Ctx, Endpoint, Param, endpoint, json_content
from core.services.gateway_paid import FormRequest
from core.types import KeyLimits

KEY: Auth = "user_or_key"
FILE_ID = (Param("file_id", string(200, 1), "the provider's file id"),)


@endpoint(
    "POST",
    "/v1/files",
    tag="openai",
    summary="Upload a file (multipart) to the provider; rate-limited, capped per account, "
    "billed per started MB when GATEWAY_FILE_CREDITS_PER_MB is set",
    auth=KEY,
    form=gw.FileForm,
    ok={200: ("The file object", json_content(gw.FILE_OBJECT))},
)
async def v1_file_upload(ctx: Ctx) -> web.StreamResponse:
    parts = await read_parts(ctx.request, ctx.deps.max_body_bytes)
    checked(parts, gw.FileFields, ("file",))
    request = bound(FormRequest(ctx.user.caller, V1_CHAT, parts=parts))
    return web.json_response(await ctx.core.files.upload(ctx.user.account, request))


@endpoint(
    "GET",
    "/v1/files",
    tag="openai",
    summary="The caller's files",
    auth=KEY,
    query=(
        Param("purpose", string(64)),
        Param("limit", integer(1, 10_000)),
        Param("after", string(200)),
        Param("order", string(4)),
    ),
    ok={200: ("The caller's files", json_content(gw.FILE_LIST))},
)
async def v1_file_list(ctx: Ctx) -> web.StreamResponse:
    query = {name: str(value) for name, value in ctx.query.items()}
    return web.json_response(await ctx.core.files.list(ctx.user.account, key_of(ctx), query))


@endpoint(
    "GET",
    "/v1/files/{file_id}",
    tag="openai",
    summary="One of the caller's files",
    auth=KEY,
    path_params=FILE_ID,
    ok={200: ("The file object", json_content(gw.FILE_OBJECT))},
)
async def v1_file(ctx: Ctx) -> web.StreamResponse:
    file_id = str(ctx.query["file_id"])
    return web.json_response(await ctx.core.files.retrieve(ctx.user.account, key_of(ctx), file_id))


@endpoint(
    "GET",
    "/v1/files/{file_id}/content",
    tag="openai",
    summary="The content of one of the caller's files",
    auth=KEY,
    path_params=FILE_ID,
    ok={200: ("The file's bytes", {"application/octet-stream": gw.FILE})},
)
async def v1_file_content(ctx: Ctx) -> web.StreamResponse:
    file_id = str(ctx.query["file_id"])
    answer = await ctx.core.files.content(ctx.user.account, key_of(ctx), file_id)
    return raw(answer)


@endpoint(
    "DELETE",
    "/v1/files/{file_id}",
    tag="openai",
    summary="Delete one of the caller's files",
    auth=KEY,
    path_params=FILE_ID,
    ok={200: ("Deleted", json_content(gw.FILE_DELETED))},
)
async def v1_file_delete(ctx: Ctx) -> web.StreamResponse:
    file_id = str(ctx.query["file_id"])
    return web.json_response(await ctx.core.files.delete(ctx.user.account, key_of(ctx), file_id))


def key_of(ctx: Ctx) -> KeyLimits | None:
    """The API key's limits when the caller came with one (None for an access token)."""
    return ctx.user.caller.api_key


def routes() -> list[Endpoint]:
    return [v1_file_upload, v1_file_list, v1_file, v1_file_content, v1_file_delete]
