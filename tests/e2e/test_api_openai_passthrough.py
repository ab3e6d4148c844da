"""/v1/chat/completions passes the client's body through: the official ``openai`` client
sends every role, part and parameter, and the fake upstream records what it received —
the same body but for ``model`` (the upstream id) and an output limit lowered or added
only where the model's maximum requires it. The answers come back as the upstream gave
them (choices, tool calls, logprobs, finish_reason, usage details) and are billed from the
upstream's usage, never entering any conversation context."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from openai import APIError, AsyncOpenAI

from core.money import price_of
from core.tokenizer import count_json, count_messages
from core.types import ConversationKey, LedgerEntry, LedgerKind, Outcome
from tests.e2e.api_harness import Api, running_api

MODEL_MAX = 1024  # gpt-4o-mini's max_output_tokens in bots/default_models.toml

TOOLS = [
    {
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
]

CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse."},
    {"role": "developer", "content": "Answer in English."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture, and the weather in Paris?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 18}'},
]


async def _client(api: Api) -> tuple[int, AsyncOpenAI]:
    account_id, token = await api.user("pass")
    status, key = await api.call("POST", "/api-keys", token, json={})
    assert status == 201
    return account_id, AsyncOpenAI(base_url=f"{api.base_url}/v1", api_key=key["key"], max_retries=0)


async def _ledger(api: Api, account_id: int, request_id: str) -> dict[LedgerKind, int]:
    async with api.app.core.accounts._uow() as uow:
        rows: list[LedgerEntry] = await uow.ledger.entries(account_id, 100)
    return {r.kind: r.amount for r in rows if r.request_id == request_id}


def _price(api: Api, prompt: int, completion: int) -> int:
    model = api.app.core.models.get("gpt-4o-mini")
    assert model is not None
    return price_of(prompt, model.input_per_1k) + price_of(completion, model.output_per_1k)


async def test_every_message_and_parameter_reaches_the_upstream_unchanged(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        account_id, client = await _client(api)
        sent: dict[str, Any] = {
            "messages": copy.deepcopy(CONVERSATION),
            "temperature": 0.3,
            "top_p": 0.9,
            "n": 2,
            "stop": ["\n\n"],
            "seed": 42,
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
            "logit_bias": {"50256": -100},
            "logprobs": True,
            "top_logprobs": 2,
            "max_completion_tokens": 50,
            "response_format": {"type": "json_object"},
            "tools": TOOLS,
            "tool_choice": "auto",
            "parallel_tool_calls": False,
            "user": "end-user-7",
            "metadata": {"ticket": "42"},
        }
        api.llm.script(reply='{"answer": "a cat", "temp_c": 18}')
        try:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini",
                extra_body={"some_future_parameter": {"nested": [1, 2.5, None]}},
                **sent,
            )
        finally:
            await client.close()
        completion = raw.parse()
        received = api.llm.requests_to("/chat/completions")[-1].body
        assert received == {
            "model": "gpt-4o-mini",
            **sent,
            "some_future_parameter": {"nested": [1, 2.5, None]},
        }
        # The answer as the upstream gave it: two choices, logprobs, fingerprint, details.
        assert completion.model == "gpt-4o-mini"
        assert [c.index for c in completion.choices] == [0, 1]
        assert all(
            c.message.content == '{"answer": "a cat", "temp_c": 18}' for c in completion.choices
        )
        assert all(c.finish_reason == "stop" for c in completion.choices)
        assert completion.choices[0].logprobs is not None
        assert completion.choices[0].logprobs.content
        assert completion.system_fingerprint == "fp_fake"
        usage = completion.usage
        assert usage is not None and usage.completion_tokens_details is not None
        assert usage.prompt_tokens_details is not None
        # Reserved: the tokenizer's prompt and the client's limit times n; settled: usage.
        prompt = (
            count_messages(CONVERSATION) + count_json(TOOLS) + count_json(sent["response_format"])
        )
        books = await _ledger(api, account_id, raw.headers["x-request-id"])
        assert books[LedgerKind.HOLD] == -_price(api, prompt, 50 * 2)
        charged = -(books[LedgerKind.HOLD] + books[LedgerKind.SETTLE])
        assert charged == _price(api, usage.prompt_tokens, usage.completion_tokens)
        # In the usage statistics, in no conversation.
        async with api.app.core.accounts._uow() as uow:
            events = await uow.usage.recent(account_id, 10)
            window = await uow.conversations.window(ConversationKey("api", "v1", account_id), 10)
        assert [(e.model, e.outcome) for e in events] == [("gpt-4o-mini", Outcome.OK)]
        assert events[0].completion_tokens == usage.completion_tokens
        assert window == []


async def test_output_limit_lowered_or_added_only_as_the_model_requires(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        _, client = await _client(api)
        messages: Any = [{"role": "user", "content": "hi"}]
        try:
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=messages, max_tokens=10**6
            )
            await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=messages, max_completion_tokens=7
            )
        finally:
            await client.close()
        lowered, added, kept = (r.body for r in api.llm.requests_to("/chat/completions"))
        assert lowered == {"model": "gpt-4o-mini", "messages": messages, "max_tokens": MODEL_MAX}
        assert added == {"model": "gpt-4o-mini", "messages": messages, "max_tokens": MODEL_MAX}
        assert kept == {"model": "gpt-4o-mini", "messages": messages, "max_completion_tokens": 7}


async def test_a_stream_is_forwarded_and_usage_shown_only_when_asked(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        account_id, client = await _client(api)
        api.llm.script(reply="one two three")
        messages: Any = [{"role": "user", "content": "count"}]
        try:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=messages, stream=True, n=2
            )
            chunks = [chunk async for chunk in raw.parse()]
        finally:
            await client.close()
        received = api.llm.requests_to("/chat/completions")[-1].body
        assert received == {
            "model": "gpt-4o-mini",
            "messages": messages,
            "stream": True,
            "n": 2,
            "max_tokens": MODEL_MAX,
            "stream_options": {"include_usage": True},  # asked always, for the books
        }
        assert all(c.usage is None for c in chunks)  # the client did not ask
        texts = {0: "", 1: ""}
        for chunk in chunks:
            for choice in chunk.choices:
                texts[choice.index] += choice.delta.content or ""
        assert texts == {0: "one two three", 1: "one two three"}
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason]
        assert finishes == ["stop", "stop"]
        # Billed from the usage the client never saw: 3 words x 2 choices.
        books = await _ledger(api, account_id, raw.headers["x-request-id"])
        prompt = 1 + 3  # the fake's count: one word plus its per-message 3
        assert -(books[LedgerKind.HOLD] + books[LedgerKind.SETTLE]) == _price(api, prompt, 6)


async def test_tool_calls_stream_as_deltas_and_finish_as_the_upstream_said(
    sqlite_url: str,
) -> None:
    async with running_api(sqlite_url) as api:
        _, client = await _client(api)
        arguments = '{"city": "Paris", "unit": "celsius"}'
        api.llm.script(tool_calls=[{"name": "get_weather", "arguments": arguments}])
        try:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "weather in Paris?"}],
                tools=TOOLS,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [chunk async for chunk in stream]
        finally:
            await client.close()
        name, args, finish = "", "", None
        for chunk in chunks:
            for choice in chunk.choices:
                for call in choice.delta.tool_calls or []:
                    name += (call.function.name or "") if call.function else ""
                    args += (call.function.arguments or "") if call.function else ""
                finish = choice.finish_reason or finish
        assert (name, args, finish) == ("get_weather", arguments, "tool_calls")
        assert chunks[-1].choices == [] and chunks[-1].usage is not None  # as asked
        assert {c.model for c in chunks} == {"gpt-4o-mini"}


async def test_a_cut_stream_is_charged_for_what_was_produced(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        account_id, client = await _client(api)
        api.llm.script(reply="alpha beta gamma delta epsilon", cut_after=2)
        try:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "go"}],
                stream=True,
            )
            text = ""
            # The SDK raises on the error event that ends the stream.
            with pytest.raises(APIError, match="charged only for what arrived"):
                async for chunk in raw.parse():
                    text += chunk.choices[0].delta.content or "" if chunk.choices else ""
        finally:
            await client.close()
        assert text == "alpha beta"
        books = await _ledger(api, account_id, raw.headers["x-request-id"])
        prompt = count_messages([{"role": "user", "content": "go"}])
        produced = count_messages([{"content": "alpha beta"}]) - 4  # the text alone
        charged = -(books[LedgerKind.HOLD] + books[LedgerKind.SETTLE])
        assert charged == _price(api, prompt, produced) > 0
        async with api.app.core.accounts._uow() as uow:
            events = await uow.usage.recent(account_id, 10)
        assert events[0].outcome is Outcome.CUT


async def test_an_upstream_error_event_is_forwarded_and_ends_the_stream(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        account_id, token = await api.user("events")
        api.llm.script(reply="one two three", midstream_error_after=1)
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "go"}]}
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{api.base_url}/v1/chat/completions"
        async with api.http.post(url, json={**body, "stream": True}, headers=headers) as r:
            assert r.status == 200
            request_id = r.headers["X-Request-Id"]
            lines = [raw.decode().strip() async for raw in r.content if raw.strip()]
        assert lines[-1] == (
            'data: {"error":{"message":"The server had an error while processing your '
            'request.","type":"server_error","param":null,"code":null}}'
        )  # the upstream's own event, and no [DONE] after it
        books = await _ledger(api, account_id, request_id)
        charged = -(books[LedgerKind.HOLD] + books[LedgerKind.SETTLE])
        prompt = count_messages(body["messages"])  # type: ignore[arg-type]
        assert charged == _price(api, prompt, 1)  # "one": one token produced


async def test_a_server_that_ignores_stream_is_streamed_to_the_client(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        account_id, client = await _client(api)
        api.llm.script(reply="whole at once", ignore_stream=True)
        try:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [chunk async for chunk in raw.parse()]
        finally:
            await client.close()
        assert [c.object for c in chunks] == ["chat.completion.chunk"] * 2
        assert chunks[0].choices[0].delta.content == "whole at once"
        assert chunks[0].choices[0].finish_reason == "stop"
        usage = chunks[1].usage
        assert usage is not None and chunks[1].choices == []
        books = await _ledger(api, account_id, raw.headers["x-request-id"])
        charged = -(books[LedgerKind.HOLD] + books[LedgerKind.SETTLE])
        assert charged == _price(api, usage.prompt_tokens, usage.completion_tokens)
