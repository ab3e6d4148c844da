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
                whole = _object(await response.read(), secret)
                for obj in chunks_of(whole) if stream else [whole]:
                    yield obj
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


def chunks_of(completion: JSONObject) -> list[JSONObject]:
    """A server that answered a streamed request whole (some ignore ``stream``): the same
    answer as the chunks a streaming server would have sent — one per choice with its
    message as the delta, then the usage. An error object stays as it is."""
    if completion.get("object") != "chat.completion":
        return [completion]
    base = {k: v for k, v in completion.items() if k not in ("choices", "usage")}
    base["object"] = "chat.completion.chunk"
    out: list[JSONObject] = []
    choices = completion.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        if isinstance(choice, dict):
            delta = {k: v for k, v in choice.items() if k != "message"}
            delta["delta"] = choice.get("message") or {}
            out.append({**base, "choices": [delta]})
    if completion.get("usage") is not None:
        out.append({**base, "choices": [], "usage": completion["usage"]})
    return out


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
