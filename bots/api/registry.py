"""Endpoints declared once: the route, who may call it, its body and query schemas and
its answers. The same declaration registers the aiohttp route, checks each request
(auth, content type, size, schema) and writes the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from bots.api.deps import DEPS, ApiDeps
from bots.api.errors import ApiError
from bots.api.schemas import JSON
from bots.api.validation import Invalid, validate
from core.errors import Unauthenticated
from core.services import Core
from core.services.auth import Principal

Auth = Literal["none", "user", "user_or_key"]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    schema: JSON
    description: str = ""


@dataclass(slots=True)
class Ctx:
    request: web.Request
    deps: ApiDeps
    principal: Principal | None
    body: dict[str, Any]
    query: dict[str, Any]

    @property
    def core(self) -> Core:
        return self.deps.core

    @property
    def user(self) -> Principal:
        assert self.principal is not None
        return self.principal


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Callable[[Ctx], Awaitable[web.StreamResponse]]
    tag: str
    summary: str
    auth: Auth
    body: str | None  # a component schema name, or "multipart:<name>"
    query: tuple[Param, ...]
    path_params: tuple[Param, ...]
    ok: Mapping[int, tuple[str, Mapping[str, JSON]]]  # status → (description, content)
    headers: tuple[Param, ...] = field(default=())


ENDPOINTS: list[Endpoint] = []


def endpoint(
    method: str,
    path: str,
    *,
    tag: str,
    summary: str,
    ok: Mapping[int, tuple[str, Mapping[str, JSON]]],
    auth: Auth = "user",
    body: str | None = None,
    query: tuple[Param, ...] = (),
    path_params: tuple[Param, ...] = (),
    headers: tuple[Param, ...] = (),
) -> Callable[
    [Callable[[Ctx], Awaitable[web.StreamResponse]]], Callable[[Ctx], Awaitable[web.StreamResponse]]
]:
    def register(
        handler: Callable[[Ctx], Awaitable[web.StreamResponse]],
    ) -> Callable[[Ctx], Awaitable[web.StreamResponse]]:
        spec = Endpoint(
            method, path, handler, tag, summary, auth, body, query, path_params, ok, headers
        )
        ENDPOINTS.append(spec)
        return handler

    return register


def json_content(schema: JSON) -> dict[str, JSON]:
    return {"application/json": {"schema": schema}}


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    return token.strip()


def _convert(raw: str, schema: JSON, where: str) -> object:
    kinds = schema.get("type")
    if kinds == "integer":
        if not raw.lstrip("-").isdigit() or len(raw) > 20:
            raise ApiError(400, "bad_request", f"{where}: must be an integer")
        return int(raw)
    return raw


def _params(
    source: Mapping[str, str], params: tuple[Param, ...], kind: str, components: Mapping[str, JSON]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in params:
        if param.name not in source:
            continue
        value = _convert(source[param.name], param.schema, f"{kind}.{param.name}")
        try:
            validate(value, param.schema, f"{kind}.{param.name}", components)
        except Invalid as exc:
            raise ApiError(400, "bad_request", str(exc)) from None
        values[param.name] = value
    return values


async def _json_body(
    request: web.Request, deps: ApiDeps, name: str, components: Mapping[str, JSON]
) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json")
    length = request.content_length
    if length is not None and length > deps.max_json_bytes:
        raise ApiError(413, "body_too_large", f"at most {deps.max_json_bytes} bytes")
    raw = await request.read()
    if len(raw) > deps.max_json_bytes:
        raise ApiError(413, "body_too_large", f"at most {deps.max_json_bytes} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "bad_request", "the body is not valid JSON") from None
    try:
        validate(body, {"$ref": name}, "body", components)
    except Invalid as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return dict(body)


def route(
    spec: Endpoint, components: Mapping[str, JSON]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        deps = request.app[DEPS]
        principal = None
        if spec.auth != "none":
            token = bearer(request)
            if spec.auth == "user" and token.startswith("sb-"):
                raise Unauthenticated()  # API keys are for /v1 only
            principal = await deps.core.auth.authenticate(token)
        query = _params(request.query, spec.query, "query", components)
        query |= _params(request.match_info, spec.path_params, "path", components)
        _params(request.headers, spec.headers, "header", components)
        body: dict[str, Any] = {}
        if spec.body is not None and not spec.body.startswith("multipart:"):
            body = await _json_body(request, deps, spec.body, components)
        return await spec.handler(Ctx(request, deps, principal, body, query))

    return handle
