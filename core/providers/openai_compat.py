"""``ModelProvider`` over any OpenAI-compatible HTTP API, with aiohttp.

Every failure leaves as a typed core error (``core.errors.Upstream*``); the API key goes
only into the ``Authorization`` header, never into a log line or an error message."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import mimetypes
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

import aiohttp

from core.errors import UpstreamError
from core.ports.passthrough import JSONObject
from core.providers.chat_passthrough import passthrough_chat
from core.providers.chat_stream import ChunkReader, whole_completion
from core.providers.http_errors import status_error, transport_error
from core.providers.sse import SSEDecoder
from core.types import ChatChunk, ChatMessage, Transcript

logger = logging.getLogger(__name__)


class OpenAICompatibleProvider:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        session: aiohttp.ClientSession | None = None,
        connect_timeout: float = 10,
        idle_timeout: float = 60,
        total_timeout: float = 600,
        name: str = "openai",
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = api_key or None
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._timeout = aiohttp.ClientTimeout(
            total=total_timeout, sock_connect=connect_timeout, sock_read=idle_timeout
        )
        self.name = name

    def __repr__(self) -> str:  # the key stays out of reprs too
        return f"OpenAICompatibleProvider(name={self.name!r}, base_url={self._base!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if this provider opened it (a lent one stays open)."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()

    async def stream_chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        limit_parameter: str = "max_tokens",
    ) -> AsyncGenerator[ChatChunk, None]:
        payload = {
            "model": model,
            "messages": [message_payload(m) for m in messages],
            # o-series and later OpenAI models refuse max_tokens: the models file names it.
            limit_parameter: max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        async with self._post("/chat/completions", payload=payload, stream=True) as response:
            try:
                if response.content_type == "application/json":
                    for chunk in whole_completion(await response.read(), self._key):
                        yield chunk
                    return
                reader, decoder = ChunkReader(self._key), SSEDecoder()
                while not reader.done:
                    raw = await _read_some(response)
                    for payload_text in decoder.feed(raw) if raw else decoder.finish():
                        for chunk in reader.read(payload_text):
                            yield chunk
                        if reader.done:
                            break
                    if not raw and not reader.done:
                        raise UpstreamError("stream cut")
            finally:
                # Stopping early (aclose, cancellation, an error) must drop the connection
                # so that the upstream sees the client leave and stops generating.
                if not response.content.is_eof():
                    response.close()

    def passthrough_chat(self, body: JSONObject, stream: bool) -> AsyncGenerator[JSONObject, None]:
        return passthrough_chat(self._post, self._key, body, stream)

    async def generate_image(self, model: str, prompt: str, size: str) -> bytes:
        payload = {
            "model": model,
            "prompt": prompt,
            "size": size,
            "n": 1,
            "response_format": "b64_json",
        }
        result = await self._json("/images/generations", payload=payload)
        items = result.get("data")
        item = items[0] if isinstance(items, list) and items else None
        encoded = item.get("b64_json") if isinstance(item, dict) else None
        if not isinstance(encoded, str) or not encoded:
            raise UpstreamError("image response carries no b64_json")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise UpstreamError("image response carries invalid base64") from None

    async def speak(self, model: str, text: str, voice: str) -> bytes:
        payload = {"model": model, "input": text, "voice": voice, "response_format": "opus"}
        async with self._post("/audio/speech", payload=payload) as response:
            audio = await response.read()
        if not audio:
            raise UpstreamError("speech response is empty")
        return audio

    async def transcribe(self, model: str, audio: bytes, filename: str) -> Transcript:
        form = aiohttp.FormData()
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        form.add_field("file", audio, filename=filename, content_type=content_type)
        form.add_field("model", model)
        form.add_field("response_format", "verbose_json")
        result = await self._json("/audio/transcriptions", form=form)
        text, duration = result.get("text"), result.get("duration")
        if not isinstance(text, str):
            raise UpstreamError("transcription response carries no text")
        seconds = float(duration) if isinstance(duration, int | float) else None
        return Transcript(text=text.strip(), duration_s=seconds)

    async def _json(
        self,
        path: str,
        *,
        payload: Mapping[str, object] | None = None,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, object]:
        async with self._post(path, payload=payload, form=form) as response:
            body = await response.read()
        try:
            result = json.loads(body)
        except ValueError:
            raise UpstreamError(f"malformed JSON from {path}", status=response.status) from None
        if not isinstance(result, dict):
            raise UpstreamError(f"unexpected JSON from {path}", status=response.status)
        return result

    @asynccontextmanager
    async def _post(
        self,
        path: str,
        *,
        payload: Mapping[str, object] | None = None,
        form: aiohttp.FormData | None = None,
        stream: bool = False,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST and yield a 2xx response; everything that goes wrong, from connecting to
        reading the body inside the block, leaves as a core ``Upstream*`` error."""
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        logger.debug("%s: POST %s", self.name, path)
        try:
            async with self._client().post(
                self._base + path, json=payload, data=form, headers=headers, timeout=self._timeout
            ) as response:
                if response.status >= 400:
                    body = await _read_capped(response, 16_384)
                    raise status_error(response.status, body, response.headers, self._key)
                yield response
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = transport_error(exc, self._key)
            logger.warning("%s: POST %s failed: %s", self.name, path, error.detail)
            raise error from None
        except UpstreamError as error:
            logger.warning("%s: POST %s failed: %s", self.name, path, error)
            raise

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError(f"provider {self.name} is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def message_payload(message: ChatMessage) -> dict[str, object]:
    """A plain string for text; OpenAI's content parts (text, then ``image_url`` data URLs)
    when the message carries pictures."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, object]] = []
    if message.content:
        parts.append({"type": "text", "text": message.content})
    parts.extend(
        {"type": "image_url", "image_url": {"url": image.data_url()}} for image in message.images
    )
    return {"role": message.role, "content": parts}


async def _read_some(response: aiohttp.ClientResponse) -> bytes:
    """The next bytes of the body; b"" at its end. A connection lost mid-body is a cut."""
    try:
        return await response.content.readany()
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
        raise UpstreamError(f"stream cut ({type(exc).__name__})") from None


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """An error body, whole but bounded: enough for ``error.message``, never a flood."""
    body = b""
    while len(body) < limit:
        piece = await response.content.read(limit - len(body))
        if not piece:
            break
        body += piece
    return body
