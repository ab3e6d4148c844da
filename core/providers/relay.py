"""``GatewayUpstream`` over aiohttp: the /v1 gateway's pass-through to one provider.

Bodies go through unchanged (the use cases rewrite ``model`` and nothing else): raw JSON,
Server-Sent Events forwarded event by event as the upstream's own bytes, multipart forms
part by part. Failures leave as the same typed core errors as ``openai_compat`` raises;
the API key goes only into the ``Authorization`` header."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

import aiohttp

from core.errors import EndpointUnsupported, UpstreamError
from core.ports.gateway import FormPart, JsonObject, RawAnswer, RelayEvent
from core.providers.http_errors import status_error, transport_error

logger = logging.getLogger(__name__)
_ERROR_BODY_LIMIT = 16_384
# An event ends at a blank line, whichever line ending the server uses.
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


class SSEEvents:
    """Bytes in, whole events out, each kept byte for byte (so the client receives
    exactly what the upstream sent: ``event:`` names, ``id:``s, comments)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[RelayEvent]:
        self._buffer += chunk
        events: list[RelayEvent] = []
        while (end := _EVENT_END.search(self._buffer)) is not None:
            raw, self._buffer = self._buffer[: end.end()], self._buffer[end.end() :]
            events.append(RelayEvent(raw, event_data(raw)))
        return events

    def finish(self) -> list[RelayEvent]:
        """The body ended: a last event that lacked its blank line still counts."""
        rest, self._buffer = self._buffer, b""
        return [RelayEvent(rest + b"\n\n", event_data(rest))] if rest.strip() else []


def event_data(raw: bytes) -> str | None:
    lines = raw.decode("utf-8", errors="replace").splitlines()
    data = [line[5:].removeprefix(" ") for line in lines if line.startswith("data:")]
    return "\n".join(data) if data else None


class Relay:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        connect_timeout: float = 10,
        idle_timeout: float = 60,
        total_timeout: float = 600,
        name: str = "openai",
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = api_key or None
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeout = aiohttp.ClientTimeout(
            total=total_timeout, sock_connect=connect_timeout, sock_read=idle_timeout
        )
        self.name = name

    def __repr__(self) -> str:  # the key stays out of reprs
        return f"Relay(name={self.name!r}, base_url={self._base!r})"

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def post_json(self, path: str, body: JsonObject) -> JsonObject:
        async with self._call("POST", path, json_body=body) as response:
            return _object(await response.read(), path, response.status)

    async def stream(self, path: str, body: JsonObject) -> AsyncGenerator[RelayEvent, None]:
        async with self._call("POST", path, json_body=body, stream=True) as response:
            try:
                if response.content_type == "application/json":
                    # A server that ignored ``stream``: its whole answer as one event.
                    raw = await response.read()
                    yield RelayEvent(b"data: " + raw + b"\n\n", raw.decode("utf-8", "replace"))
                    return
                events = SSEEvents()
                while True:
                    chunk = await _read_some(response)
                    for event in events.feed(chunk) if chunk else events.finish():
                        yield event
                    if not chunk:
                        return
            finally:
                # Leaving early (the client went away, an error) drops the connection, so
                # the upstream stops generating.
                if not response.content.is_eof():
                    response.close()

    async def post_form(self, path: str, parts: Sequence[FormPart]) -> RawAnswer:
        form = aiohttp.FormData()
        for part in parts:
            if part.filename is None:
                form.add_field(part.name, part.value.decode("utf-8", errors="replace"))
            else:
                form.add_field(
                    part.name,
                    part.value,
                    filename=part.filename,
                    content_type=part.content_type or "application/octet-stream",
                )
        async with self._call("POST", path, form=form, accept="*/*") as response:
            return RawAnswer(await response.read(), response.content_type)

    async def get_json(self, path: str, query: Mapping[str, str]) -> JsonObject:
        async with self._call("GET", path, query=query) as response:
            return _object(await response.read(), path, response.status)

    async def get_raw(self, path: str) -> RawAnswer:
        async with self._call("GET", path, accept="*/*") as response:
            return RawAnswer(await response.read(), response.content_type)

    async def delete_json(self, path: str) -> JsonObject:
        async with self._call("DELETE", path) as response:
            return _object(await response.read(), path, response.status)

    @asynccontextmanager
    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: JsonObject | None = None,
        form: aiohttp.FormData | None = None,
        query: Mapping[str, str] | None = None,
        stream: bool = False,
        accept: str = "application/json",
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send and yield a 2xx response; everything that goes wrong, from connecting to
        reading the body inside the block, leaves as a core error."""
        headers = {"Accept": "text/event-stream" if stream else accept}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        # Serialised here (not by aiohttp) so that unknown fields and their order survive.
        data: bytes | aiohttp.FormData | None = form
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        logger.debug("%s: %s %s", self.name, method, path)
        try:
            async with self._client().request(
                method,
                self._base + path,
                data=data,
                params=query,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                if response.status >= 400:
                    body = await _read_capped(response)
                    raise _failure(path, response, body, self._key)
                yield response
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = transport_error(exc, self._key)
            logger.warning("%s: %s %s failed: %s", self.name, method, path, error.detail)
            raise error from None
        except UpstreamError as error:
            logger.warning("%s: %s %s failed: %s", self.name, method, path, error)
            raise

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError(f"relay {self.name} is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def _failure(
    path: str, response: aiohttp.ClientResponse, body: bytes, key: str | None
) -> Exception:
    """A route the server lacks answers 404/405 without an OpenAI error object (Ollama,
    vLLM and aiohttp alike); a 404 *with* one is the upstream's own refusal (an unknown
    model or file), passed on with its message."""
    if response.status in (404, 405) and not _is_openai_error(body):
        return EndpointUnsupported(endpoint=f"/v1{path}", model="")
    return status_error(response.status, body, response.headers, key)


def _is_openai_error(body: bytes) -> bool:
    """An error object the server wrote itself: OpenAI's ``{"error": {...}}``, or vLLM's
    ``{"object": "error", "message": ...}`` (a framework's bare 404 has neither)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    return isinstance(payload.get("error"), dict) or payload.get("object") == "error"


def _object(body: bytes, path: str, status: int) -> JsonObject:
    try:
        result = json.loads(body)
    except ValueError:
        raise UpstreamError(f"malformed JSON from {path}", status=status) from None
    if not isinstance(result, dict):
        raise UpstreamError(f"unexpected JSON from {path}", status=status)
    return result


async def _read_some(response: aiohttp.ClientResponse) -> bytes:
    """The next bytes of the body; b"" at its end. A connection lost mid-body is a cut."""
    try:
        return await response.content.readany()
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
        raise UpstreamError(f"stream cut ({type(exc).__name__})") from None


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    body = b""
    while len(body) < _ERROR_BODY_LIMIT:
        piece = await response.content.read(_ERROR_BODY_LIMIT - len(body))
        if not piece:
            break
        body += piece
    return body
