"""Errors under /v1 have OpenAI's shape and statuses, so the official SDK raises its own
exception class for each: ours (auth, role, model, credits, limits, bad bodies) and the
upstream's (a 4xx passed back with its own message, a 429 with Retry-After, a failure as
a 5xx). Paths outside /v1 keep the API's own error shape."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.e2e.api_harness import Api, running_api

HI: Any = [{"role": "user", "content": "hi"}]


async def _key(api: Api, username: str) -> str:
    _, token = await api.user(username)
    status, key = await api.call("POST", "/api-keys", token, json={})
    assert status == 201
    return str(key["key"])


def _client(api: Api, key: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{api.base_url}/v1", api_key=key, max_retries=0)


def _error(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return dict(body["error"])


async def test_our_refusals_and_the_upstreams_map_to_the_sdk_classes(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        client = _client(api, await _key(api, "errs"))
        create = client.chat.completions.create
        try:
            with pytest.raises(openai.NotFoundError) as missing:
                await create(model="no-such-model", messages=HI)
            assert _error(missing.value)["code"] == "model_not_found"
            assert _error(missing.value)["param"] == "model"

            with pytest.raises(openai.BadRequestError) as empty:
                await create(model="gpt-4o-mini", messages=[])
            assert _error(empty.value)["type"] == "invalid_request_error"

            # The upstream's own 400, passed back with its message and param.
            with pytest.raises(openai.BadRequestError) as refused:
                await create(model="gpt-4o-mini", messages=[{"content": "no role"}])  # type: ignore[list-item]
            assert _error(refused.value) == {
                "message": "Invalid type for 'messages': expected an array of message objects.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": None,
            }

            api.llm.enqueue(rate_limit_retry_after=7)
            with pytest.raises(openai.RateLimitError) as busy:
                await create(model="gpt-4o-mini", messages=HI)
            assert busy.value.response.headers["retry-after"] == "7"
            assert _error(busy.value)["code"] == "rate_limit_exceeded"

            api.llm.enqueue(fail_before_output=500)
            with pytest.raises(openai.InternalServerError) as failed:
                await create(model="gpt-4o-mini", messages=HI)
            assert failed.value.status_code == 502
            assert _error(failed.value)["type"] == "server_error"
        finally:
            await client.close()

        wrong = _client(api, "sb-not-a-key")
        try:
            with pytest.raises(openai.AuthenticationError) as unauthenticated:
                await wrong.chat.completions.create(model="gpt-4o-mini", messages=HI)
            assert _error(unauthenticated.value)["code"] == "invalid_api_key"
        finally:
            await wrong.close()

        status, body = await api.call("POST", "/v1/no-such-endpoint", "x", json={})
        assert status == 404 and body["error"]["type"] == "invalid_request_error"
        assert set(body["error"]) == {"message", "type", "param", "code"}
        # Outside /v1 the API keeps its own shape.
        status, body = await api.call("GET", "/users/me")
        assert status == 401 and set(body["error"]) == {"code", "message"}


async def test_a_model_the_role_may_not_use_is_403(sqlite_url: str) -> None:
    async with running_api(sqlite_url, new_account_role="guest") as api:
        client = _client(api, await _key(api, "guest"))
        try:
            with pytest.raises(openai.PermissionDeniedError) as denied:
                await client.chat.completions.create(model="gpt-4o", messages=HI)
        finally:
            await client.close()
        assert _error(denied.value)["type"] == "permission_error"
        assert api.llm.requests_to("/chat/completions") == []


async def test_no_credits_is_insufficient_quota(sqlite_url: str) -> None:
    async with running_api(sqlite_url, welcome_credits="0") as api:
        client = _client(api, await _key(api, "broke"))
        try:
            with pytest.raises(openai.RateLimitError) as broke:
                await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        finally:
            await client.close()
        assert _error(broke.value)["type"] == "insufficient_quota"
        assert _error(broke.value)["code"] == "insufficient_quota"
        assert api.llm.requests_to("/chat/completions") == []


async def test_our_rate_limit_is_429_with_retry_after(sqlite_url: str) -> None:
    async with running_api(sqlite_url, rate_limits="user:1/5") as api:
        client = _client(api, await _key(api, "hasty"))
        try:
            await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
            with pytest.raises(openai.RateLimitError) as limited:
                await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        finally:
            await client.close()
        assert _error(limited.value)["code"] == "rate_limit_exceeded"
        assert int(limited.value.response.headers["retry-after"]) >= 1
        assert len(api.llm.requests_to("/chat/completions")) == 1


async def test_the_body_is_limited_by_bytes_not_by_a_character_count(sqlite_url: str) -> None:
    async with running_api(sqlite_url, api_v1_max_json_bytes=64 * 1024) as api:
        client = _client(api, await _key(api, "long"))
        long_text = "word " * 6000  # 30,000 characters: over the chats' 12,000 limit
        try:
            answer = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": long_text}]
            )
            assert answer.choices[0].message.content
            with pytest.raises(openai.APIStatusError) as too_big:
                await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": long_text * 3}]
                )
        finally:
            await client.close()
        assert too_big.value.status_code == 413
        assert _error(too_big.value)["type"] == "invalid_request_error"
        sent = api.llm.requests_to("/chat/completions")
        assert len(sent) == 1 and sent[0].body["messages"][0]["content"] == long_text
