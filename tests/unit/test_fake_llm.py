"""The fake OpenAI-compatible server keeps OpenAI's shapes, checked over raw HTTP so that
the provider's tolerance cannot hide a drift of the fake."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from core.providers.sse import SSEDecoder
from tests.fakes.llm_server import FakeLLM

KEY = "sk-fake-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
ASK = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "one two"}]}

# OpenAI's usage object, details included (all zero: the fake caches, reasons and hears nothing).
WITH_DETAILS = {
    "prompt_tokens": 5,
    "completion_tokens": 3,
    "total_tokens": 8,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


async def stream(llm: FakeLLM, **extra: Any) -> list[str]:
    decoder = SSEDecoder()
    async with aiohttp.ClientSession() as http:
        url = f"{llm.base_url}/chat/completions"
        async with http.post(url, json={**ASK, "stream": True, **extra}, headers=AUTH) as resp:
            assert resp.status == 200 and resp.content_type == "text/event-stream"
            return [e for raw in [await resp.read()] for e in decoder.feed(raw) + decoder.finish()]


async def test_stream_without_include_usage_has_no_usage() -> None:
    async with FakeLLM(api_key=KEY) as llm:
        llm.script(reply="Hi there you")
        events = await stream(llm)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and "usage" not in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "Hi there you"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert len({c["id"] for c in chunks}) == 1


async def test_include_usage_adds_one_last_chunk_with_empty_choices() -> None:
    async with FakeLLM(api_key=KEY) as llm:
        llm.script(reply="a b c d e")
        events = await stream(llm, stream_options={"include_usage": True}, max_tokens=3)
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == WITH_DETAILS
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"


async def test_non_streamed_completion_and_openai_errors() -> None:
    async with FakeLLM(api_key=KEY) as llm, aiohttp.ClientSession() as http:
        url = f"{llm.base_url}/chat/completions"
        async with http.post(url, json=ASK, headers=AUTH) as resp:
            whole = await resp.json()
        assert whole["object"] == "chat.completion"
        assert whole["choices"][0]["message"] == {
            "role": "assistant",
            "content": "Echo: one two",
            "refusal": None,
        }
        assert whole["usage"] == WITH_DETAILS
        async with http.post(url, json=ASK) as resp:
            assert resp.status == 401
            assert set((await resp.json())["error"]) == {"message", "type", "param", "code"}
        async with http.post(
            url, json={**ASK, "stream_options": {"include_usage": True}}, headers=AUTH
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["param"] == "stream_options"
        async with http.get(f"{llm.base_url}/models", headers=AUTH) as resp:
            assert "gpt-4o-mini" in [m["id"] for m in (await resp.json())["data"]]
    assert [r.path for r in llm.requests] == ["/chat/completions", "/chat/completions"]
