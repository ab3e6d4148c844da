"""Endpoints declared as values: the route, who may call it, its body model, its query,
path and header parameters and its answers. ``@endpoint`` turns a handler into such a
value (and registers nothing); each handlers module lists its endpoints in ``routes()``
and ``app.py`` registers those lists explicitly. ``route`` turns one endpoint into an
aiohttp handler that checks each request (auth, the admin role, content type, size, body,
parameters) before the handler runs, and ``openapi.py`` writes the document from the same list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from bots.api.deps import DEPS, ApiDeps
from bots.api.errors import ApiError, invalid
from core.errors import Unauthenticated
from core.services import Core
from core.services.auth import Principal

Auth = Literal["none", "user", "user_or_key"]
JSON = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Param:
    """A query, path or header parameter; ``kind`` is its type (``Annotated`` with limits)."""

    name: str
    kind: Any
    description: str = ""
    adapter: TypeAdapter[Any] = field(init=False, repr=False, compare=False)
    schema: JSON = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        adapter = TypeAdapter(self.kind)
        object.__setattr__(self, "adapter", adapter)
        object.__setattr__(self, "schema", adapter.json_schema())


# What an answer looks like, per status: (description, {media type: model or raw schema}).
Content = Mapping[str, type[BaseModel] | JSON]
Answers = Mapping[int, tuple[str, Content]]


@dataclass(slots=True)
class Ctx:
    request: web.Request
    deps: ApiDeps
    principal: Principal | None
    body: BaseModel | None
    query: dict[str, Any]

    @property
    def core(self) -> Core:
        return self.deps.core

    @property
    def user(self) -> Principal:
        assert self.principal is not None
        return self.principal

    def body_as(self, kind: type[M]) -> M:
        assert isinstance(self.body, kind), "the endpoint declares another body"
        return self.body


Handler = Callable[[Ctx], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    tag: str
    summary: str
    ok: Answers
    auth: Auth = "user"
    body: type[BaseModel] | None = None
    form: type[BaseModel] | None = None  # multipart/form-data, read by the handler
    query: tuple[Param, ...] = ()
    path_params: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()
    # Admin-only: the role is checked right after authentication, before any parameter or
    # body is read, so a non-admin gets 403 whatever they sent (never a 400 that would
    # tell them how to shape a request they may not make).
    admin: bool = False


def endpoint(
    method: str,
    path: str,
    *,
    tag: str,
    summary: str,
    ok: Answers,
    auth: Auth = "user",
    body: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    query: tuple[Param, ...] = (),
    path_params: tuple[Param, ...] = (),
    headers: tuple[Param, ...] = (),
    admin: bool = False,
) -> Callable[[Handler], Endpoint]:
    """Declare a handler as an endpoint: the decorated name becomes the ``Endpoint`` value.
    Nothing is registered here; each handlers module lists its endpoints in ``routes()``."""

    def declare(handler: Handler) -> Endpoint:
        return Endpoint(
            method,
            path,
            handler,
            tag,
            summary,
            ok,
            auth,
            body,
            form,
            query,
            path_params,
            headers,
            admin,
        )

    return declare


def json_content(model: type[BaseModel] | JSON) -> Content:
    return {"application/json": model}


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    return token.strip()


def _convert(raw: str, param: Param, where: str) -> object:
    if param.schema.get("type") == "integer":
        if not raw.lstrip("-").isdigit() or len(raw) > 20:
            raise ApiError(400, "bad_request", f"{where}: must be an integer")
        return int(raw)
    return raw


def _params(source: Mapping[str, str], params: tuple[Param, ...], kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in params:
        if param.name not in source:
            continue
        where = f"{kind}.{param.name}"
        value = _convert(source[param.name], param, where)
        try:
            values[param.name] = param.adapter.validate_python(value, strict=True)
        except ValidationError as exc:
            raise invalid(exc, where) from None
    return values


async def _json_body(request: web.Request, limit: int, model: type[BaseModel]) -> BaseModel:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json")
    length = request.content_length
    if length is not None and length > limit:
        raise ApiError(413, "body_too_large", f"at most {limit} bytes")
    raw = await request.read()
    if len(raw) > limit:
        raise ApiError(413, "body_too_large", f"at most {limit} bytes")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid(exc, "body") from None


def route(spec: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        deps = request.app[DEPS]
        principal = None
        if spec.auth != "none":
            token = bearer(request)
            if spec.auth == "user" and token.startswith("sb-"):
                raise Unauthenticated()  # API keys are for /v1 only
            principal = await deps.core.auth.authenticate(token)
        if spec.admin:
            assert principal is not None, "an admin endpoint needs auth"
            await deps.core.admin.require_admin(principal.caller, f"{spec.method} {spec.path}")
        query = _params(request.query, spec.query, "query")
        query |= _params(request.match_info, spec.path_params, "path")
        _params(request.headers, spec.headers, "header")
        body = None
        if spec.body is not None:
            body = await _json_body(request, deps.json_limit(spec.path), spec.body)
        return await spec.handler(Ctx(request, deps, principal, body, query))

    return handle
