"""Clients people point at an OpenAI-compatible server, against /v1 and a recording fake
upstream: LangChain's ``ChatOpenAI`` (multi-turn, ``bind_tools`` with a tool round trip,
``with_structured_output``, streaming, an image part) and the ``litellm`` SDK. Each test
asserts on what the upstream received, not only on the answer."""

from __future__ import annotations

import json
import os
from typing import Any

# LiteLLM fetches a price list from the internet when imported unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import pytest
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from tests.e2e.api_harness import Api, running_api

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


class City(BaseModel):
    name: str
    country: str


async def _key(api: Api, username: str) -> str:
    _, token = await api.user(username)
    status, key = await api.call("POST", "/api-keys", token, json={})
    assert status == 201
    return str(key["key"])


def _received(api: Api) -> dict[str, Any]:
    return api.llm.requests_to("/chat/completions")[-1].body


async def test_langchain_chat_tools_structured_output_stream_and_images(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        llm = ChatOpenAI(
            model="gpt-4o-mini",
            base_url=f"{api.base_url}/v1",
            api_key=SecretStr(await _key(api, "chain")),
            max_retries=0,
            temperature=0.2,
        )

        # Multi-turn: every turn reaches the model as its own message, roles intact.
        api.llm.script(reply="Lyon.")
        turns = [
            SystemMessage("Answer with one word."),
            HumanMessage("Capital of France?"),
            AIMessage("Paris."),
            HumanMessage("Second city?"),
        ]
        answer = await llm.ainvoke(turns)
        assert answer.content == "Lyon."
        received = _received(api)
        assert [(m["role"], m["content"]) for m in received["messages"]] == [
            ("system", "Answer with one word."),
            ("user", "Capital of France?"),
            ("assistant", "Paris."),
            ("user", "Second city?"),
        ]
        assert received["temperature"] == 0.2 and received["model"] == "gpt-4o-mini"

        # bind_tools, and the tool's result sent back.
        api.llm.script(tool_calls=[{"name": "get_weather", "arguments": '{"city": "Paris"}'}])
        with_tools = llm.bind_tools([WEATHER])
        asked = [HumanMessage("Weather in Paris?")]
        call = await with_tools.ainvoke(asked)
        assert isinstance(call, AIMessage)
        assert [(c["name"], c["args"]) for c in call.tool_calls] == [
            ("get_weather", {"city": "Paris"})
        ]
        assert _received(api)["tools"] == [WEATHER]
        api.llm.script(reply="It is 18 degrees in Paris.")
        result = ToolMessage('{"temp_c": 18}', tool_call_id=call.tool_calls[0]["id"] or "")
        final = await with_tools.ainvoke([*asked, call, result])
        assert final.content == "It is 18 degrees in Paris."
        back = _received(api)["messages"]
        assert back[1]["role"] == "assistant"
        assert back[1]["tool_calls"][0]["function"]["name"] == "get_weather"
        assert back[2] == {
            "role": "tool",
            "content": '{"temp_c": 18}',
            "tool_call_id": call.tool_calls[0]["id"],
        }

        # with_structured_output: a JSON schema goes up, the JSON answer comes back parsed.
        api.llm.script(reply=json.dumps({"name": "Paris", "country": "France"}))
        city = await llm.with_structured_output(City).ainvoke("Capital of France?")
        assert city == City(name="Paris", country="France")
        response_format = _received(api)["response_format"]
        assert response_format["type"] == "json_schema"
        assert response_format["json_schema"]["schema"]["required"] == ["name", "country"]

        # Streaming, with the usage LangChain asks for.
        api.llm.script(reply="one two three")
        streaming = llm.model_copy(update={"stream_usage": True})
        pieces, usage = [], None
        async for chunk in streaming.astream("count"):
            pieces.append(chunk.content)
            usage = chunk.usage_metadata or usage
        assert "".join(str(p) for p in pieces) == "one two three"
        assert usage is not None and usage["output_tokens"] == 3
        assert _received(api)["stream"] is True

        # An image part goes up as it was written.
        api.llm.script(reply="A single pixel.")
        parts: list[str | dict[str, Any]] = [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": PIXEL}},
        ]
        seen = await llm.ainvoke([HumanMessage(content=parts)])
        assert seen.content == "A single pixel."
        assert _received(api)["messages"] == [{"role": "user", "content": parts}]


async def test_litellm_sdk_chat_stream_tools_and_errors(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        target: dict[str, Any] = {
            "model": "openai/gpt-4o-mini",
            "api_base": f"{api.base_url}/v1",
            "api_key": await _key(api, "lite"),
            "max_retries": 0,
        }
        api.llm.script(reply="Bonjour.")
        messages = [
            {"role": "system", "content": "Translate to French."},
            {"role": "user", "content": "Hello."},
        ]
        answer = await litellm.acompletion(messages=messages, seed=7, top_p=0.5, **target)
        assert answer.choices[0].message.content == "Bonjour."
        received = _received(api)
        assert received["messages"] == messages
        assert (received["model"], received["seed"], received["top_p"]) == ("gpt-4o-mini", 7, 0.5)

        api.llm.script(tool_calls=[{"name": "get_weather", "arguments": '{"city": "Oslo"}'}])
        called = await litellm.acompletion(
            messages=[{"role": "user", "content": "Weather in Oslo?"}],
            tools=[WEATHER],
            tool_choice="required",
            **target,
        )
        tool_calls = called.choices[0].message.tool_calls
        assert tool_calls and tool_calls[0].function.name == "get_weather"
        assert (_received(api)["tools"], _received(api)["tool_choice"]) == ([WEATHER], "required")

        api.llm.script(reply="a b c d")
        stream = await litellm.acompletion(
            messages=[{"role": "user", "content": "letters"}],
            stream=True,
            stream_options={"include_usage": True},
            **target,
        )
        text, usage = "", None
        async for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            usage = getattr(chunk, "usage", None) or usage
        assert text == "a b c d"
        assert usage is not None and usage.completion_tokens == 4

        with pytest.raises(litellm.NotFoundError):
            await litellm.acompletion(
                messages=[{"role": "user", "content": "hi"}], **{**target, "model": "openai/nope"}
            )
        api.llm.enqueue(rate_limit_retry_after=3)
        with pytest.raises(litellm.RateLimitError):
            await litellm.acompletion(messages=[{"role": "user", "content": "hi"}], **target)
