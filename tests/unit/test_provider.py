"""OpenAICompatibleProvider against the fake OpenAI-compatible server: what it sends, what
it yields, how every failure becomes a typed core error, and that the key never leaks."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncGenerator, AsyncIterator

import aiohttp
import pytest

from core.errors import (
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
)
from core.providers import OpenAICompatibleProvider
from core.types import ChatChunk, ChatMessage, Transcript, Usage
from tests.fakes.llm_server import FakeLLM

KEY = "sk-test-5ecret-KEY-0123456789"
MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "hi there")]
PROMPT_TOKENS = (2 + 3) + (2 + 3)  # words + 3 per message, as the fake counts


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(api_key=KEY) as server:
        yield server


@pytest.fixture
async def provider(llm: FakeLLM) -> AsyncIterator[OpenAICompatibleProvider]:
    async with OpenAICompatibleProvider(llm.base_url, KEY) as client:
        yield client


async def collect(
    provider: OpenAICompatibleProvider, max_tokens: int = 100, got: list[ChatChunk] | None = None
) -> list[ChatChunk]:
    got = [] if got is None else got
    async for chunk in provider.stream_chat("gpt-4o-mini", MESSAGES, max_tokens):
        got.append(chunk)
    return got


def texts(chunks: list[ChatChunk]) -> list[str]:
    return [c.text for c in chunks if c.text]


async def test_streams_text_then_exact_usage(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.script(reply="The quick brown fox")
    chunks = await collect(provider, max_tokens=50)
    assert texts(chunks) == ["The", " quick", " brown", " fox"]
    assert chunks[-1] == ChatChunk(usage=Usage(prompt_tokens=PROMPT_TOKENS, completion_tokens=4))
    assert [c for c in chunks if c.usage] == [chunks[-1]]
    [sent] = llm.requests_to("/chat/completions")
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["max_tokens"] == 50
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi there"},
    ]
    assert sent.authorization == f"Bearer {KEY}"
    assert llm.completed == 1


async def test_max_tokens_and_chunking_are_honoured(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.script(reply="abcdefgh", chunk_chars=3)
    assert texts(await collect(provider)) == ["abc", "def", "gh"]
    chunks = await collect(provider, max_tokens=2)
    assert texts(chunks) == ["abc", "def"]
    assert chunks[-1].usage == Usage(prompt_tokens=PROMPT_TOKENS, completion_tokens=2)


async def test_default_reply_echoes_and_no_usage_when_omitted(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.script(omit_usage=True)
    chunks = await collect(provider)
    assert "".join(texts(chunks)) == "Echo: hi there"
    assert all(c.usage is None for c in chunks)


async def test_no_authorization_header_without_a_key() -> None:
    async with FakeLLM() as server, OpenAICompatibleProvider(server.base_url, None) as client:
        assert texts(await collect(client))
        assert server.requests[0].authorization is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, UpstreamError),
        (503, UpstreamError),
        (403, UpstreamError),
        (400, UpstreamRejected),  # an UpstreamBadRequest with the error's fields
        (404, UpstreamRejected),  # an UpstreamBadRequest with the error's fields
        (422, UpstreamRejected),  # an UpstreamBadRequest with the error's fields
    ],
)
async def test_failure_before_output_is_typed(
    llm: FakeLLM, provider: OpenAICompatibleProvider, status: int, kind: type[UpstreamError]
) -> None:
    llm.script(fail_before_output=status, error_message="model overloaded")
    with pytest.raises(kind) as caught:
        await collect(provider)
    assert type(caught.value) is kind
    assert caught.value.status == status
    assert "model overloaded" in caught.value.detail
    if isinstance(caught.value, UpstreamRejected):
        assert caught.value.message == "model overloaded"


async def test_rate_limit_carries_retry_after(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.enqueue(rate_limit_retry_after=2)
    with pytest.raises(UpstreamRateLimited) as caught:
        await collect(provider)
    assert caught.value.retry_after == 2.0
    assert caught.value.status == 429
    llm.enqueue(rate_limit_retry_after_ms=1500)
    with pytest.raises(UpstreamRateLimited) as caught:
        await provider.speak("tts-1", "hello", "alloy")
    assert caught.value.retry_after == 1.5
    assert texts(await collect(provider))  # the queue is spent: back to normal


async def test_midstream_error_after_first_chunks(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.script(reply="one two three four", midstream_error_after=2, error_message="boom upstream")
    got: list[ChatChunk] = []
    with pytest.raises(UpstreamError) as caught:
        await collect(provider, got=got)
    assert texts(got) == ["one", " two"]
    assert "boom upstream" in caught.value.detail


@pytest.mark.parametrize("how", [{"cut_after": 3}, {"omit_done": True, "reply": "one two three"}])
async def test_stream_cut_raises_after_exactly_the_sent_chunks(
    llm: FakeLLM, provider: OpenAICompatibleProvider, how: dict[str, object]
) -> None:
    llm.script(**{"reply": "one two three four five", **how})
    got: list[ChatChunk] = []
    with pytest.raises(UpstreamError) as caught:
        await collect(provider, got=got)
    assert type(caught.value) is UpstreamError
    assert texts(got) == ["one", " two", " three"]
    assert "stream cut" in caught.value.detail
    assert llm.completed == 0


async def test_hang_times_out_and_the_server_sees_the_client_leave(llm: FakeLLM) -> None:
    llm.script(reply="one two three", hang=True, hang_after=1)
    got: list[ChatChunk] = []
    async with OpenAICompatibleProvider(llm.base_url, KEY, idle_timeout=0.2) as client:
        with pytest.raises(UpstreamTimeout):
            await collect(client, got=got)
    assert texts(got) == ["one"]
    assert await llm.wait_for_disconnects(1)


async def test_total_timeout(llm: FakeLLM) -> None:
    llm.script(reply="a b c d e f g h i j", delay=0.05)
    async with OpenAICompatibleProvider(llm.base_url, KEY, total_timeout=0.2) as client:
        with pytest.raises(UpstreamTimeout):
            await collect(client)


async def test_consumer_closing_early_drops_the_connection(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.script(reply="a b c d e f g h i j", delay=0.05)
    stream = provider.stream_chat("gpt-4o-mini", MESSAGES, 100)
    assert isinstance(stream, AsyncGenerator)
    first = await anext(stream)
    assert first.text == "a"
    await stream.aclose()
    assert await llm.wait_for_disconnects(1)
    assert llm.completed == 0


async def test_cancelled_consumer_drops_the_connection(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.script(reply="a b c d e f g h i j", delay=0.05)
    got: list[ChatChunk] = []
    first = asyncio.Event()

    async def consume() -> None:
        async for chunk in provider.stream_chat("gpt-4o-mini", MESSAGES, 100):
            got.append(chunk)
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await llm.wait_for_disconnects(1)
    assert len(texts(got)) < 10


async def test_connection_refused_is_an_upstream_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with OpenAICompatibleProvider(f"http://127.0.0.1:{port}/v1", KEY) as client:
        with pytest.raises(UpstreamError) as caught:
            await collect(client)
    assert not isinstance(caught.value, UpstreamTimeout)
    assert caught.value.status is None


async def test_api_key_never_in_errors_or_logs(
    llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[UpstreamError] = []
    async with OpenAICompatibleProvider(llm.base_url, "sk-wrong-" + KEY) as wrong:
        with pytest.raises(UpstreamError) as caught:
            await collect(wrong)
        assert caught.value.status == 401
        errors.append(caught.value)
    async with OpenAICompatibleProvider(llm.base_url, KEY) as client:
        # Some servers echo the key back in their error text: it must be scrubbed.
        llm.script(fail_before_output=400, error_message=f"bad key {KEY} in request")
        with pytest.raises(UpstreamBadRequest) as bad:
            await client.generate_image("gpt-image-1", "a cat", "1024x1024")
        errors.append(bad.value)
        llm.script(midstream_error_after=1, error_message=f"oops {KEY}")
        with pytest.raises(UpstreamError) as mid:
            await collect(client)
        errors.append(mid.value)
        assert KEY not in repr(client)
    assert "bad key *** in request" in errors[1].detail
    for error in errors:
        assert KEY not in str(error) and KEY not in error.detail and KEY not in repr(error)
    assert "POST /chat/completions failed" in caplog.text  # the failures were logged...
    assert KEY not in caplog.text  # ...without the key


async def test_lent_session_stays_open(llm: FakeLLM) -> None:
    async with aiohttp.ClientSession() as session:
        async with OpenAICompatibleProvider(llm.base_url, KEY, session=session) as client:
            assert texts(await collect(client))
        assert not session.closed


async def test_generate_image_returns_png_bytes(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    image = await provider.generate_image("gpt-image-1", "a red fox", "1024x1024")
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in image
    [sent] = llm.requests_to("/images/generations")
    assert sent.body == {
        "model": "gpt-image-1",
        "prompt": "a red fox",
        "size": "1024x1024",
        "n": 1,
        "response_format": "b64_json",
    }


async def test_speak_returns_ogg_bytes(llm: FakeLLM, provider: OpenAICompatibleProvider) -> None:
    audio = await provider.speak("tts-1", "Hello there", "alloy")
    assert audio.startswith(b"OggS") and b"OpusHead" in audio
    [sent] = llm.requests_to("/audio/speech")
    assert sent.body == {
        "model": "tts-1",
        "input": "Hello there",
        "voice": "alloy",
        "response_format": "opus",
    }


async def test_transcribe_sends_multipart_and_reads_verbose_json(
    llm: FakeLLM, provider: OpenAICompatibleProvider
) -> None:
    llm.script(transcript="Bonjour tout le monde", transcript_duration=4.25)
    result = await provider.transcribe("whisper-1", b"OggS-not-really-audio", "voice.ogg")
    assert result == Transcript(text="Bonjour tout le monde", duration_s=4.25)
    [sent] = llm.requests_to("/audio/transcriptions")
    assert sent.body["model"] == "whisper-1"
    assert sent.body["response_format"] == "verbose_json"
    assert sent.body["file"]["filename"] == "voice.ogg"
    assert sent.body["file"]["data"] == b"OggS-not-really-audio"
    llm.script(transcript="no duration", transcript_duration=None)
    assert await provider.transcribe("whisper-1", b"x", "a.ogg") == Transcript("no duration", None)


async def test_invalid_request_is_a_bad_request(provider: OpenAICompatibleProvider) -> None:
    with pytest.raises(UpstreamBadRequest) as caught:
        await collect(provider, max_tokens=0)
    assert caught.value.status == 400 and "max_tokens" in caught.value.detail
