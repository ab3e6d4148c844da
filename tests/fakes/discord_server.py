"""``FakeDiscord``: a fake Discord (REST + gateway) on 127.0.0.1 for the real discord.py.

    async with FakeDiscord() as discord_api:
        discord.http.Route.BASE = discord_api.base_url        # REST
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(discord_api.gateway_url)
        ...
        await discord_api.gateway.wait_ready()
        payload = discord_api.slash("ask", {"prompt": "hi"}, user=alice)
        await discord_api.dispatch_interaction(payload)

REST answers with Discord's shapes and errors (``tests.fakes.discord_rest``), enforces 5
edits per 5 s per message and 50 requests a second (``tests.fakes.discord_limits``) with
Discord's 429 bodies and headers, checks the bot token on bot routes, and expires
interaction tokens after ``token_ttl_s``. Every call is recorded in ``calls``. Test-side
builders live in ``tests.fakes.discord_events``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import discord_shapes as shapes
from tests.fakes.discord_events import EventBuilders
from tests.fakes.discord_gateway import Gateway
from tests.fakes.discord_limits import RateLimits, retry_after_header
from tests.fakes.discord_rest import ApiError, Rest, unknown_message
from tests.known_secrets import DISCORD_TOKEN

JSON = dict[str, Any]
Handler = Callable[["Call", web.Request], Awaitable[Any]]


@dataclass
class Call:
    route: str  # a name: "callback", "edit_original", "followup", "channel_create", ...
    method: str
    path: str
    time: float  # time.monotonic() on arrival
    payload: Any = None  # JSON body, or payload_json of a multipart body
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, type, data)
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200
    body: Any = None
    rate_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Injected:
    route: str
    status: int
    body: JSON
    retry_after: float | None
    count: int


@dataclass
class InteractionState:
    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    created: float
    acked: int | None = None
    acked_at: float | None = None
    ephemeral: bool = False
    original_id: int | None = None
    followups: list[int] = field(default_factory=list)
    choices: list[JSON] = field(default_factory=list)
    message_id: int | None = None  # the message a component interaction came from


class FakeDiscord(EventBuilders):
    def __init__(
        self,
        token: str = DISCORD_TOKEN,
        *,
        token_ttl_s: float = 900.0,
        ack_deadline_s: float = 3.0,
        recommended_shards: int = 1,
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self.token = token
        self.token_ttl_s = token_ttl_s
        self.ack_deadline_s = ack_deadline_s
        self.recommended_shards = recommended_shards
        self.app_id = shapes.snowflake()
        self.owner_id = shapes.snowflake()
        self.bot_user = shapes.user(self.app_id, "switchboard", bot=True)
        self.limits = RateLimits()
        self.gateway = Gateway(self, heartbeat_interval_ms)
        self.calls: list[Call] = []
        self.too_many_requests = 0
        self.messages: dict[int, JSON] = {}
        self.deleted: dict[int, JSON] = {}
        self.files: dict[int, tuple[str, bytes]] = {}  # attachment id -> (content type, data)
        self.cdn_reads: list[int] = []  # attachment ids fetched from the CDN
        self.commands: dict[int | None, list[JSON]] = {}
        self.guilds: dict[int, JSON] = {}
        self.interactions: dict[int, InteractionState] = {}
        self._tokens: dict[str, int] = {}
        self._channel_guild: dict[int, int] = {}
        self._injected: list[Injected] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle ----------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What ``discord.http.Route.BASE`` should be set to."""
        return f"{self.origin}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self._routes(app, Rest(self))
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{id}/{name}", self._cdn)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _routes(self, app: web.Application, rest: Rest) -> None:
        api = "/api/v10"
        hook = api + "/webhooks/{app}/{token}"
        table: list[tuple[str, str, str, Handler, bool]] = [
            ("GET", "/gateway/bot", "gateway_bot", rest.gateway_bot, True),
            ("GET", "/users/@me", "users_me", rest.users_me, True),
            ("GET", "/oauth2/applications/@me", "application", rest.application, True),
            ("PUT", "/applications/{a}/commands", "bulk_overwrite", rest.bulk_overwrite, True),
            (
                "PUT",
                "/applications/{a}/guilds/{guild_id}/commands",
                "bulk_overwrite",
                rest.bulk_overwrite,
                True,
            ),
            ("POST", "/interactions/{id}/{token}/callback", "callback", rest.callback, False),
            ("POST", "/channels/{channel}/messages", "channel_create", rest.channel_create, True),
            (
                "PATCH",
                "/channels/{channel}/messages/{message}",
                "channel_edit",
                rest.channel_edit,
                True,
            ),
            (
                "GET",
                "/channels/{channel}/messages/{message}",
                "channel_get",
                rest.channel_get,
                True,
            ),
            ("POST", "/channels/{channel}/typing", "typing", rest.typing, True),
        ]
        for method, path, name, handler, auth in table:
            app.router.add_route(method, api + path, self._wrap(name, handler, auth))
        app.router.add_post(hook, self._wrap("followup", rest.followup, False))
        app.router.add_patch(
            hook + "/messages/{message}", self._wrap("webhook_edit", rest.webhook_edit, False)
        )
        app.router.add_get(
            hook + "/messages/{message}", self._wrap("webhook_get", rest.webhook_get, False)
        )
        app.router.add_delete(
            hook + "/messages/{message}", self._wrap("webhook_delete", rest.webhook_delete, False)
        )

    # ---- one request: record, authenticate, limit, answer ---------------------------------

    def _wrap(
        self, name: str, handler: Handler, auth: bool
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            call = Call(
                name, request.method, request.path, time.monotonic(), query=dict(request.query)
            )
            if name == "webhook_edit" and request.match_info["message"] == "@original":
                call.route = "edit_original"
            self.calls.append(call)
            await self._read_body(request, call)
            if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return self._answer(call, 401, shapes.error("401: Unauthorized", 0))
            refused = self._refusal(call, request)
            if refused is not None:
                return refused
            try:
                body = await handler(call, request)
            except ApiError as error:
                return self._answer(call, error.status, error.body)
            except KeyError:
                return self._answer(call, 404, shapes.error("Unknown interaction", 10062))
            return self._answer(call, 204 if body is None else 200, body, call.rate_headers)

        return serve

    def _refusal(self, call: Call, request: web.Request) -> web.Response | None:
        for injected in self._injected:
            if injected.route == call.route and injected.count > 0:
                injected.count -= 1
                return self._refuse(call, injected.status, injected.body, injected.retry_after)
        bucket = None
        if request.method == "PATCH" and "message" in request.match_info:
            bucket = f"{request.match_info.get('token', request.match_info.get('channel'))}:{request.match_info['message']}"
        verdict = self.limits.check(bucket)
        call.rate_headers = verdict.headers
        if verdict.retry_after is not None:
            body = shapes.rate_limited(verdict.retry_after, is_global=verdict.is_global)
            return self._refuse(call, 429, body, verdict.retry_after, verdict.headers)
        return None

    def _refuse(
        self,
        call: Call,
        status: int,
        body: JSON,
        retry_after: float | None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        extra = dict(headers or {})
        if status == 429:
            self.too_many_requests += 1
            # Discord's API answers carry Via; discord.py treats a 429 without it as a
            # Cloudflare ban and does not retry.
            extra.update({"Via": "1.1 google", "Retry-After": retry_after_header(retry_after or 1)})
            extra.setdefault("X-RateLimit-Scope", "user")
            extra.setdefault("X-RateLimit-Remaining", "0")
            extra.setdefault("X-RateLimit-Reset-After", f"{retry_after or 1:.3f}")
        return self._answer(call, status, body, extra)

    @staticmethod
    def _answer(
        call: Call, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> web.Response:
        call.status, call.body = status, body
        if body is None:
            return web.Response(status=status, headers=headers)
        # Exactly "application/json", as Discord sends it: discord.py compares the whole header.
        response = web.Response(body=json.dumps(body).encode(), status=status, headers=headers)
        response.headers["Content-Type"] = "application/json"
        return response

    @staticmethod
    async def _read_body(request: web.Request, call: Call) -> None:
        if not request.can_read_body:
            return
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    call.payload = json.loads(await part.text())  # type: ignore[union-attr]
                elif part.filename:  # type: ignore[union-attr]
                    data = await part.read()  # type: ignore[union-attr]
                    kind = part.headers.get("Content-Type", "application/octet-stream")  # type: ignore[union-attr]
                    call.files.append((part.filename, kind, bytes(data)))  # type: ignore[union-attr]
        else:
            raw = await request.read()
            call.payload = json.loads(raw) if raw else None

    async def _cdn(self, request: web.Request) -> web.Response:
        stored = self.files.get(int(request.match_info["id"]))
        if stored is None:
            return web.Response(status=404, text="Not Found")
        self.cdn_reads.append(int(request.match_info["id"]))
        return web.Response(body=stored[1], headers={"Content-Type": stored[0]})

    # ---- state used by the handlers ------------------------------------------------------

    def interaction_by(self, raw_id: str, token: str) -> InteractionState:
        state = self.interactions.get(int(raw_id))
        if state is None or state.token != token:
            raise ApiError(404, shapes.error("Unknown interaction", 10062))
        return state

    def interaction_by_token(self, token: str) -> InteractionState | None:
        interaction_id = self._tokens.get(token)
        return self.interactions.get(interaction_id) if interaction_id is not None else None

    def guild_of(self, channel_id: int) -> int | None:
        return self._channel_guild.get(channel_id)

    def store_file(
        self, channel_id: int, filename: str, kind: str, data: bytes, **extra: Any
    ) -> JSON:
        attachment_id = shapes.snowflake()
        self.files[attachment_id] = (kind, data)
        url = f"{self.origin}/attachments/{channel_id}/{attachment_id}/{filename}"
        return shapes.attachment(attachment_id, filename, len(data), url, kind, **extra)

    def _attachments(self, channel_id: int, files: list[tuple[str, str, bytes]]) -> list[JSON]:
        return [self.store_file(channel_id, name, kind, data) for name, kind, data in files]

    def new_message(
        self,
        channel_id: int,
        content: str,
        *,
        guild_id: int | None = None,
        flags: int = 0,
        components: list[JSON] | None = None,
        files: list[tuple[str, str, bytes]] | None = None,
        webhook: InteractionState | None = None,
        referenced: JSON | None = None,
    ) -> JSON:
        message = shapes.message(
            shapes.snowflake(),
            channel_id,
            self.bot_user,
            content,
            guild_id=guild_id,
            flags=flags,
            components=components,
            attachments=self._attachments(channel_id, files or []),
            referenced=referenced,
            webhook_id=self.app_id if webhook is not None else None,
            application_id=self.app_id if webhook is not None else None,
        )
        self.messages[int(message["id"])] = message
        return message

    def update_message(
        self, message_id: int, payload: JSON, files: list[tuple[str, str, bytes]]
    ) -> JSON:
        message = self.messages.get(message_id)
        if message is None:
            raise unknown_message()
        for key in ("content", "components", "embeds"):
            if key in payload:
                message[key] = (
                    payload[key] if payload[key] is not None else ([] if key != "content" else "")
                )
        if "attachments" in payload or files:
            keep = {str(a.get("id")) for a in payload.get("attachments") or []}
            kept = [a for a in message["attachments"] if a["id"] in keep]
            message["attachments"] = kept + self._attachments(int(message["channel_id"]), files)
        message["flags"] = int(message["flags"]) & ~128  # no longer "thinking"
        message["edited_timestamp"] = shapes.now_iso()
        return message

    # ---- what tests inject and inspect ----------------------------------------------------

    def inject(
        self,
        route: str,
        *,
        status: int = 429,
        retry_after: float = 1.5,
        count: int = 1,
        body: JSON | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``route`` with an error (429 by default)."""
        if body is None:
            body = (
                shapes.rate_limited(retry_after, is_global=False)
                if status == 429
                else shapes.error("error", 0)
            )
        self._injected.append(Injected(route, status, body, retry_after, count))

    def calls_to(self, route: str, interaction_id: int | None = None) -> list[Call]:
        found = [c for c in self.calls if c.route == route]
        if interaction_id is not None:
            token = self.interactions[interaction_id].token
            found = [c for c in found if token in c.path]
        return found
