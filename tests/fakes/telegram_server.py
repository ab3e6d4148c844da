"""A fake Telegram Bot API server (aiohttp on 127.0.0.1) for the real aiogram ``Bot``.

Point a bot at it with ``AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))``.
It answers with the real shapes (``{"ok": true, "result": ...}``, Message objects) and the
real errors, enforces flood control (429 with ``retry_after``) unless ``limits_enabled``
is off, and records every call for assertions. Tests feed updates with ``push_update``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.telegram_limits import FloodControl, FloodLimits
from tests.fakes.telegram_methods import METHODS, ApiError
from tests.known_secrets import TELEGRAM_TOKEN


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() when the request arrived
    ok: bool = True
    status: int = 200
    result: Any = None
    description: str = ""
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Injected:
    method: str | None
    chat_id: int | None
    status: int
    description: str
    parameters: dict[str, Any] | None
    count: int


class FakeTelegramServer:
    def __init__(self, token: str = TELEGRAM_TOKEN, *, limits: FloodLimits | None = None) -> None:
        self.token = token
        self.limits_enabled = True
        self.drafts_enabled = True
        self.reject_entities = False  # answer "can't parse entities" to every formatted text
        self.flood = FloodControl(limits or FloodLimits())
        self.bot_user = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Switchboard",
            "username": "switchboard_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.drafts: dict[tuple[int, int], str] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, data)
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self.callback_answers: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._injected: list[Injected] = []
        self._new_update = asyncio.Event()
        self._closed = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        self._closed = True  # ends pending long polls now, not at their timeout
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- what tests feed and inspect ----------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        return int(update["update_id"])

    def add_file(self, data: bytes, path: str | None = None) -> str:
        file_id = f"file{next(self._file_ids)}"
        self.files[file_id] = (path or f"documents/{file_id}.bin", data)
        return file_id

    def photo(self, data: bytes, width: int, height: int) -> list[dict[str, Any]]:
        """A ``photo`` field as Telegram sends it: sizes smallest first, each a file of its
        own (here a 90-px thumbnail and the picture itself)."""
        thumb_id = self.add_file(data[:512], "photos/thumb.jpg")
        file_id = self.add_file(data, f"photos/{next(self._file_ids)}.jpg")
        scale = 90 / max(width, height)
        return [
            {"file_id": thumb_id, "file_unique_id": f"u{thumb_id}", "file_size": 512,
             "width": round(width * scale), "height": round(height * scale)},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
             "width": width, "height": height},
        ]  # fmt: skip

    def document(
        self, data: bytes, name: str, mime: str, *, declared_size: int | None = None
    ) -> dict[str, Any]:
        """A ``document`` field; ``declared_size`` lets a test claim a size it never stores."""
        file_id = self.add_file(data, f"documents/{name}")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": name,
            "mime_type": mime,
            "file_size": declared_size if declared_size is not None else len(data),
        }

    def set_chat(self, chat_id: int, chat_type: str, **fields: Any) -> None:
        self.chats[chat_id] = {"id": chat_id, "type": chat_type, **fields}

    def inject(
        self,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` matching calls with an error (a 429 by default)."""
        parameters = {"retry_after": retry_after or 1} if status == 429 else None
        if description is None:
            description = f"Too Many Requests: retry after {retry_after or 1}"
        self._injected.append(Injected(method, chat_id, status, description, parameters, count))

    def calls_for(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if (method is None or call.method.lower() == method.lower())
            and (chat_id is None or _int(call.params.get("chat_id")) == chat_id)
        ]

    @property
    def too_many_requests(self) -> int:
        return sum(1 for call in self.calls if call.status == 429)

    def user_message(
        self, chat_id: int, text: str, *, user_id: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A message from a person, stored (so replies to it work); push it in an update
        with ``push_update({"message": server.user_message(...)})``."""
        sender = user_id if user_id is not None else (chat_id if chat_id > 0 else 4242)
        message = {
            "message_id": self.next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": {"id": sender, "is_bot": False, "first_name": "User", "language_code": "en"},
            "text": text,
            **fields,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        return {"id": chat_id, "type": "supergroup", "title": "Group"}

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def store_file(self, data: bytes, folder: str, extension: str) -> tuple[str, str]:
        file_id = f"file{next(self._file_ids)}"
        path = f"{folder}/{file_id}.{extension}"
        self.files[file_id] = (path, data)
        return file_id, path

    async def wait_updates(self, offset: int | None, wait_s: float) -> list[dict[str, Any]]:
        if offset is not None:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + wait_s
        while not self._updates and not self._closed and time.monotonic() < deadline:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return list(self._updates[:100])

    # ---- HTTP ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(method, params, time.monotonic(), files=files)
        self.calls.append(call)
        handler = METHODS.get(method.lower())
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            self._check_injected(method, params)
            call.result = await handler(self, call)
        except ApiError as error:
            call.ok, call.status, call.description = False, error.status, error.description
            return _error(error.status, error.description, error.parameters)
        return web.json_response({"ok": True, "result": call.result})

    def _check_injected(self, method: str, params: dict[str, Any]) -> None:
        chat_id = _int(params.get("chat_id"))
        for rule in self._injected:
            if rule.count <= 0:
                continue
            if rule.method is not None and rule.method.lower() != method.lower():
                continue
            if rule.chat_id is not None and rule.chat_id != chat_id:
                continue
            rule.count -= 1
            if rule.status == 429 and chat_id is not None and rule.parameters:
                self.flood.block(chat_id, time.monotonic(), rule.parameters["retry_after"])
            raise ApiError(rule.status, rule.description, rule.parameters)

    def check_flood(self, chat_id: int) -> None:
        """Refuse (429) or count one call that posts or changes a message in a chat."""
        if not self.limits_enabled:
            return
        now = time.monotonic()
        group = self.chat(chat_id)["type"] != "private"
        retry_after = self.flood.check(chat_id, group, now)
        if retry_after is not None:
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        self.flood.record(chat_id, now)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        for file_path, data in self.files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return _error(404, "Not Found")


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_JSONISH = re.compile(r"^\s*[\[{]")
_TEXT_FIELDS = {"text", "caption", "query", "title", "description"}


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Form fields (as aiogram sends them: JSON for objects) or a JSON body, and files."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        body = await request.json()
        return (body if isinstance(body, dict) else {}), files
    if request.method == "GET":
        return dict(request.query), files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = value.file.read()
        elif isinstance(value, str) and key not in _TEXT_FIELDS and _JSONISH.match(value):
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params, files
