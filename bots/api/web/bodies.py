"""The JSON bodies the page sends, validated like the API's (pydantic)."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bots.api.deps import DEPS


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(_Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class NewAccount(Credentials):
    # An invitation code (/invite): what lets a newcomer in when ACCESS=closed.
    invite: str | None = Field(None, max_length=32)


class Send(_Body):
    text: str = Field(max_length=100_000)
    model: str | None = Field(None, max_length=200)


class Stop(_Body):
    request_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class ChooseModel(_Body):
    model: str = Field(max_length=200)


B = TypeVar("B", bound=_Body)


async def read(request: web.Request, kind: type[B]) -> B:
    limit = request.app[DEPS].max_json_bytes
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(raw))
    try:
        return kind.model_validate_json(raw)
    except ValidationError:
        raise web.HTTPBadRequest(text="bad body") from None
