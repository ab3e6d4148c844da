"""The /v1 gateway's raw chat completions: the client's body goes to the upstream as it
is and the upstream's objects come back as they are (parsed, so the gateway can read
usage and put the client's model name back), streamed or whole."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager

import aiohttp

from core.errors import UpstreamError
from core.ports.passthrough import JSONObject
from core.providers.chat_stream import DONE
from core.providers.http_errors import redact
from core.providers.sse import SSEDecoder

# ``OpenAICompatibleProvider._post``: POST a JSON body, yield a 2xx response.
Post = Callable[..., AbstractAsyncContextManager[aiohttp.ClientResponse]]


async def passthrough_chat(
    post: Post, secret: str | None, body: JSONObject, stream: bool
) -> AsyncGenerator[JSONObject, None]:
    async with post("/chat/completions", payload=body, stream=stream) as response:
        try:
            if not stream or response.content_type == "application/json":
                yield _object(await response.read(), secret)
                return
            decoder = SSEDecoder()
            while True:
                raw = await _read_some(response)
                for payload in decoder.feed(raw) if raw else decoder.finish():
                    if payload.strip() == DONE:
                        return
                    yield _object(payload.encode("utf-8"), secret)
                if not raw:
                    raise UpstreamError("stream cut")
        finally:
            # Stopping early (a client that left) drops the connection, so the upstream
            # stops generating.
            if not response.content.is_eof():
                response.close()


def _object(raw: bytes, secret: str | None) -> JSONObject:
    try:
        value = json.loads(raw)
    except ValueError:
        shown = redact(raw[:80].decode("utf-8", errors="replace"), secret)
        raise UpstreamError(f"malformed JSON: {shown!r}") from None
    if not isinstance(value, dict):
        raise UpstreamError("malformed JSON: not an object")
    return value


async def _read_some(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await response.content.readany()
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
        raise UpstreamError(f"stream cut ({type(exc).__name__})") from None
