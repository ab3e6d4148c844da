"""``FakeLLM``: an OpenAI-compatible server on 127.0.0.1 for tests and benchmarks.

    async with FakeLLM(api_key="sk-test") as llm:
        llm.script(reply="Hi there", delay=0.01)   # every request from now on
        llm.enqueue(fail_before_output=500)        # only the next request (FIFO, any path)
        provider = OpenAICompatibleProvider(llm.base_url, "sk-test")

It answers like OpenAI: ``chat.completion.chunk`` events, a usage chunk with empty
``choices`` only when ``stream_options.include_usage`` is set, ``data: [DONE]``, whole
``chat.completion`` objects when ``stream`` is false, OpenAI error bodies, 401 for a
wrong bearer, ``max_tokens`` enforced (finish_reason "length"), and refused with
OpenAI's 400 for the ids in ``reasoning_models`` (they take ``max_completion_tokens``). Token accounting is
described in ``tests.fakes.llm_scripts``. ``llm.requests`` records every request
(path relative to ``base_url``); ``llm.disconnects`` counts requests (streams, slow
or hung replies) whose client left before the end. Replies are instant unless a script sets ``delay``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes import llm_files, llm_gateway, llm_media
from tests.fakes.llm_chat import chat_completions
from tests.fakes.llm_scripts import Script, bad_key_message, error_body

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-image-1", "tts-1", "whisper-1")


@dataclass
class RecordedRequest:
    path: str  # relative to base_url, e.g. "/chat/completions"
    body: dict[str, Any]  # the JSON body, or the multipart fields (file as a dict)
    authorization: str | None = field(default=None, repr=False)


class FakeLLM:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: list[str] | None = None,
        record_requests: bool = True,
        reasoning_models: frozenset[str] = frozenset(),
    ) -> None:
        self.api_key = api_key
        self.models = models  # None: any model is accepted
        # Upstream ids answered like OpenAI's reasoning models: ``max_tokens`` in a chat
        # completion is refused with OpenAI's 400 (unsupported_parameter).
        self.reasoning_models = reasoning_models
        self.record_requests = record_requests
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.completed = 0  # streams that reached "data: [DONE]"
        self.default = Script()
        self._queue: deque[Script] = deque()
        self._served = 0
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._disconnected = asyncio.Event()
        self.port = 0
        self.files = llm_files.FakeFiles()  # the provider's files (replaced on start)

    # ---- scripting -------------------------------------------------------------------

    def script(self, **behaviour: Any) -> Script:
        """Replace the standing behaviour (fresh defaults plus ``behaviour``)."""
        self.default = Script(**behaviour)
        return self.default

    def enqueue(self, **behaviour: Any) -> Script:
        """A one-shot behaviour for the next request, before the standing one applies."""
        script = Script(**behaviour)
        self._queue.append(script)
        return script

    def next_script(self) -> Script:
        return self._queue.popleft() if self._queue else self.default

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    async def wait_for_disconnects(self, count: int = 1, within: float = 2.0) -> bool:
        """The server notices a client leaving a moment later; wait for it."""
        try:
            async with asyncio.timeout(within):
                while self.disconnects < count:
                    self._disconnected.clear()
                    await self._disconnected.wait()
        except TimeoutError:
            return False
        return True

    # ---- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> FakeLLM:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        self._closing.clear()
        app = web.Application(
            middlewares=[self._guard], client_max_size=llm_media.MAX_AUDIO_BYTES + 2**20
        )
        app.router.add_post("/v1/chat/completions", partial(chat_completions, self))
        app.router.add_post("/v1/images/generations", partial(llm_media.images, self))
        app.router.add_post("/v1/audio/speech", partial(llm_media.speech, self))
        app.router.add_post("/v1/audio/transcriptions", partial(llm_media.transcriptions, self))
        app.router.add_get("/v1/models", self._models)
        # Embeddings, completions, responses, image edits/variations, translations, files.
        self.files = llm_gateway.mount(app, self)
        # handler_cancellation: a client that goes away cancels its handler, which is
        # how a hanging or slow stream notices the disconnect.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- helpers for the handlers ----------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.api_key is not None:
            given = request.headers.get("Authorization", "")
            if not given:
                return self.error(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                )
            if given != f"Bearer {self.api_key}":
                return self.error(401, bad_key_message(given.removeprefix("Bearer ")))
        try:
            return await handler(request)
        except asyncio.CancelledError:  # handler_cancellation: the client went away
            self.count_disconnect()
            raise

    async def _models(self, request: web.Request) -> web.Response:
        names = self.models if self.models is not None else list(DEFAULT_MODELS)
        data = [
            {"id": n, "object": "model", "created": 1700000000, "owned_by": "fake"} for n in names
        ]
        return web.json_response({"object": "list", "data": data})

    def error(
        self, status: int, message: str, param: str | None = None, **headers: str
    ) -> web.Response:
        return web.json_response(error_body(status, message, param), status=status, headers=headers)

    def record(self, request: web.Request, body: dict[str, Any]) -> None:
        self._served += 1
        if self.record_requests:
            path = request.path.removeprefix("/v1")
            self.requests.append(RecordedRequest(path, body, request.headers.get("Authorization")))

    @property
    def served(self) -> int:
        """How many requests reached a handler (counted even when not recorded)."""
        return self._served

    def now(self) -> int:
        return int(time.time())

    async def json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """The request's JSON object, recorded; or the 400 OpenAI answers for bad JSON."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.record(request, {})
            return self.error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
            )
        self.record(request, body)
        return body

    def check_model(self, body: dict[str, Any]) -> web.Response | None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.error(400, "you must provide a model parameter", "model")
        if self.models is not None and model not in self.models:
            return self.error(
                404, f"The model `{model}` does not exist or you do not have access to it.", "model"
            )
        return None

    async def before_reply(self, request: web.Request, script: Script) -> web.Response | None:
        """Scripted failures that come before any output: an error status, a 429, a hang."""
        if (
            script.rate_limit_retry_after is not None
            or script.rate_limit_retry_after_ms is not None
        ):
            headers = {}
            if script.rate_limit_retry_after is not None:
                headers["Retry-After"] = f"{script.rate_limit_retry_after:g}"
            if script.rate_limit_retry_after_ms is not None:
                headers["retry-after-ms"] = str(script.rate_limit_retry_after_ms)
            return self.error(
                429, "Rate limit reached for requests. Please try again later.", **headers
            )
        if script.fail_before_output is not None:
            return self.error(script.fail_before_output, script.error_message)
        if script.hang and request.path != "/v1/chat/completions":
            try:
                await self.hang(request)
            except ConnectionResetError:
                return web.Response(status=503)
        if script.delay and request.path != "/v1/chat/completions":
            await asyncio.sleep(script.delay)
        return None

    async def hang(self, request: web.Request) -> None:
        """Send nothing more until the client leaves (the handler is then cancelled) or
        the server closes (the connection is then dropped: ConnectionResetError)."""
        await self._closing.wait()
        if request.transport is not None:
            request.transport.close()
        raise ConnectionResetError("fake LLM server closing")

    def count_disconnect(self) -> None:
        if not self._closing.is_set():  # our own shutdown is not a client leaving
            self.disconnects += 1
            self._disconnected.set()
