"""``core.providers.relay.Relay`` against the fake OpenAI-compatible server: bodies go
through byte-faithful, SSE events keep their own bytes, an upstream refusal keeps its
message, a route the server lacks is ``EndpointUnsupported``, and the key never leaks."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from core.errors import EndpointUnsupported, UpstreamBadRequest, UpstreamError
from core.ports import FormPart
from core.providers.relay import Relay, SSEEvents
from tests.fakes.llm_server import FakeLLM

KEY = "sk-test-5ecret-KEY-0123456789"


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(api_key=KEY) as server:
        yield server


@pytest.fixture
async def relay(llm: FakeLLM) -> AsyncIterator[Relay]:
    relay = Relay(llm.base_url, KEY)
    try:
        yield relay
    finally:
        await relay.aclose()


def test_events_are_split_whole_and_kept_byte_for_byte() -> None:
    events = SSEEvents()
    first = events.feed(b'event: response.created\ndata: {"a"')
    assert first == []
    got = events.feed(b": 1}\n\n: a comment\r\n\r\ndata: x\ndata: y\n\ndata: [DONE]")
    assert [e.raw for e in got] == [
        b'event: response.created\ndata: {"a": 1}\n\n',
        b": a comment\r\n\r\n",
        b"data: x\ndata: y\n\n",
    ]
    assert [e.data for e in got] == ['{"a": 1}', None, "x\ny"]
    rest = events.finish()
    assert [(e.raw, e.data) for e in rest] == [(b"data: [DONE]\n\n", "[DONE]")]


async def test_json_goes_through_unchanged_and_comes_back_whole(llm: FakeLLM, relay: Relay) -> None:
    body = {"model": "m", "prompt": "Say hi", "n": 1, "future_field": {"x": [1, 2.5, None]}}
    answer = await relay.post_json("/completions", body)
    assert llm.requests_to("/completions")[-1].body == body
    assert answer["object"] == "text_completion"
    assert llm.requests_to("/completions")[-1].authorization == f"Bearer {KEY}"


async def test_stream_yields_the_upstream_events(llm: FakeLLM, relay: Relay) -> None:
    llm.script(reply="a b")
    events = [
        e async for e in relay.stream("/responses", {"model": "m", "input": "hi", "stream": True})
    ]
    assert events[0].raw.startswith(b"event: response.created\ndata: ")
    kinds = [json.loads(e.data or "{}")["type"] for e in events]
    assert kinds.count("response.output_text.delta") == 2 and kinds[-1] == "response.completed"


async def test_refusals_keep_the_upstream_message_and_missing_routes_are_named(
    llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    relay = Relay(llm.base_url, KEY)
    try:
        with pytest.raises(UpstreamBadRequest) as refused:
            await relay.post_json("/embeddings", {"model": "m", "input": ""})
        assert refused.value.status == 400 and "non-empty" in refused.value.detail
        with pytest.raises(UpstreamBadRequest) as missing:  # a 404 with an OpenAI error body
            await relay.get_json("/files/file-nope", {})
        assert "No such File object" in missing.value.detail
        with pytest.raises(EndpointUnsupported) as lacking:  # a bare 404: no such route
            await relay.post_form("/audio/unknown", [FormPart("model", b"m")])
        assert lacking.value.params["endpoint"] == "/v1/audio/unknown"
    finally:
        await relay.aclose()
    wrong = Relay(llm.base_url, "sk-wrong-key-000000000000")
    try:
        with pytest.raises(UpstreamError) as denied:
            await wrong.post_json("/embeddings", {"model": "m", "input": "x"})
        assert denied.value.status == 401 and "sk-wrong-key-000000000000" not in str(denied.value)
    finally:
        await wrong.aclose()
    assert KEY not in caplog.text and "sk-wrong-key-000000000000" not in caplog.text


async def test_a_vllm_style_404_is_the_upstreams_refusal_not_a_missing_route() -> None:

    async def unknown_model(request: web.Request) -> web.Response:
        body = {"object": "error", "message": "The model `x` does not exist.", "code": 404}
        return web.json_response(body, status=404)

    app = web.Application()
    app.router.add_post("/v1/embeddings", unknown_model)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    relay = Relay(f"http://127.0.0.1:{port}/v1", None)
    try:
        with pytest.raises(UpstreamBadRequest) as refused:
            await relay.post_json("/embeddings", {"model": "x", "input": "hi"})
        assert "does not exist" in refused.value.detail
        with pytest.raises(EndpointUnsupported):  # aiohttp's own 404 for a route it lacks
            await relay.post_json("/responses", {"model": "x", "input": "hi"})
    finally:
        await relay.aclose()
        await runner.cleanup()
