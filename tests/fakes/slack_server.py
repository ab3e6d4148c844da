"""``FakeSlack``: a Slack Web API on 127.0.0.1 for tests and benchmarks.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.token, base_url=slack.base_url)

It answers Slack's JSON shapes (``{"ok": false, "error": "..."}`` with HTTP 200, HTTP 429
``ratelimited`` with ``Retry-After``), takes arguments from the query string, a form or a
JSON body like Slack, and checks the bearer token. Methods: see ``slack_methods``.
Limits enforced: ``msg_too_long`` past ``max_text`` characters (chat.postMessage,
chat.update), ≤ 12,000 characters per streaming call, streams only as thread replies and
expiring after ``stream_ttl_s`` (``message_not_in_streaming_state``), ``missing_scope``
for the streaming methods when ``streaming_scope`` is off, and Tier 3 for chat.update:
``tier3_limit`` calls per ``tier3_window_s`` per workspace. ``calls`` records every call.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes import slack_methods
from tests.known_secrets import SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET

BOT_TOKEN = SLACK_BOT_TOKEN
SIGNING_SECRET = SLACK_SIGNING_SECRET


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    status: int = 200
    error: str | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str
    thread_ts: str | None = None
    blocks: list[Any] | None = None
    streaming: bool = False
    stream_started: float = 0.0
    edits: int = 0
    bot_id: str | None = None


@dataclass
class StoredFile:
    id: str
    filename: str
    length: int
    data: bytes = b""
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    mimetype: str = "application/octet-stream"


@dataclass
class FakeSlack:
    token: str = BOT_TOKEN
    team_id: str = "T0TEAM"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    max_text: int = 40_000
    stream_chunk_max: int = 12_000
    stream_ttl_s: float = 300.0
    streaming_scope: bool = True
    tier3_limit: int = 50
    tier3_window_s: float = 60.0
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)  # file ids fetched with the token
    responses: list[dict[str, Any]] = field(default_factory=list)  # posted to response_url
    port: int = 0

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._tier3: dict[str, deque[float]] = {}
        self.ratelimited = 0  # 429s answered

    # ---- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        app.router.add_post("/hooks/{name}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook_url(self) -> str:
        """A response_url for slash commands and actions."""
        return f"{self.root}/hooks/response"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    # ---- state helpers used by methods and tests -------------------------------------

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_user(self, user_id: str, name: str, *, is_admin: bool = False, **kw: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name.title(),
            "is_admin": is_admin,
            "is_bot": kw.get("is_bot", False),
            "locale": kw.get("locale", "en-US"),
            "profile": {"display_name": name, "real_name": name.title()},
        }

    def host_file(self, filename: str, data: bytes, mimetype: str) -> dict[str, Any]:
        """A file someone shared: its Slack file object (with a private download URL)."""
        file_id = self.next_id("F")
        self.files[file_id] = StoredFile(file_id, filename, len(data), data, mimetype=mimetype)
        return {
            "id": file_id,
            "name": filename,
            "mimetype": mimetype,
            "filetype": filename.rpartition(".")[2],
            "size": len(data),
            "url_private": f"{self.root}/files/{file_id}/{filename}",
            "url_private_download": f"{self.root}/files/{file_id}/{filename}",
        }

    def post_user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> Message:
        ts = self.next_ts()
        message = Message(channel, ts, text, user, thread_ts=thread_ts)
        self.messages[(channel, ts)] = message
        return message

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def bot_messages(self, channel: str, thread_ts: str | None = None) -> list[Message]:
        found = [
            m
            for m in self.messages.values()
            if m.channel == channel
            and m.user == self.bot_user_id
            and (thread_ts is None or m.thread_ts == thread_ts)
        ]
        return sorted(found, key=lambda m: m.ts)

    def tier3_allows(self, team: str) -> float:
        """0 when a Tier 3 call may go now, else the seconds until it may."""
        now = time.monotonic()
        window = self._tier3.setdefault(team, deque())
        while window and window[0] <= now - self.tier3_window_s:
            window.popleft()
        if len(window) >= self.tier3_limit:
            return window[0] + self.tier3_window_s - now
        window.append(now)
        return 0.0

    # ---- HTTP ------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            args.update(body if isinstance(body, dict) else {})
        elif request.can_read_body:
            args.update(dict(await request.post()))
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        call = Call(method, args, time.monotonic())
        self.calls.append(call)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._fail(call, "invalid_auth")
        handler = slack_methods.METHODS.get(method)
        if handler is None:
            return self._fail(call, "unknown_method")
        try:
            result = handler(self, args)
        except slack_methods.RateLimited as limited:
            self.ratelimited += 1
            call.status, call.error = 429, "ratelimited"
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, int(limited.seconds + 0.999)))},
            )
        except slack_methods.SlackError as error:
            return self._fail(call, error.code)
        return web.json_response({"ok": True, **result})

    def _fail(self, call: Call, code: str) -> web.Response:
        call.error = code
        return web.json_response({"ok": False, "error": code})

    async def _upload(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text="not found")
        stored.data = await request.read()
        self.calls.append(
            Call("upload", {"file_id": stored.id, "bytes": len(stored.data)}, time.monotonic())
        )
        return web.Response(text=f"OK - {len(stored.data)}")

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(body)
        self.calls.append(Call("response_url", body, time.monotonic()))
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            # Slack answers an HTML login page, not the file, without the token.
            return web.Response(text="<html>login</html>", content_type="text/html")
        if stored is None:
            return web.Response(status=404)
        self.downloads.append(stored.id)
        return web.Response(body=stored.data, content_type=stored.mimetype)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
