"""The output limit the gateway adds, under the key each model's server takes: OpenAI's
reasoning models (o1, o3, o4-mini, gpt-5...) refuse ``max_tokens`` with a 400, so a
model declared ``limit_parameter = "max_completion_tokens"`` gets that key instead. The
fake model server refuses ``max_tokens`` for ``o4-mini`` exactly as OpenAI does, so a
gateway that added the wrong key would fail these tests with that 400."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.e2e.api_harness import Api, running_api

MODELS = """
default_chat_model = "plain"

[models.plain]
upstream = "gpt-4o-mini"
output_credits_per_1k = 100
max_output_tokens = 64

[models.thinker]
upstream = "o4-mini"
limit_parameter = "max_completion_tokens"
output_credits_per_1k = 100       # 0.1 credit a token: a small balance caps the output
max_output_tokens = 64
"""
HI = [{"role": "user", "content": "Think."}]


@asynccontextmanager
async def gateway(
    url: str, tmp_path: Path, welcome_credits: str = "1000"
) -> AsyncIterator[tuple[Api, AsyncOpenAI]]:
    models = tmp_path / "models.toml"
    models.write_text(MODELS, encoding="utf-8")
    async with running_api(url, models_file=models, welcome_credits=welcome_credits) as api:
        api.llm.reasoning_models = frozenset({"o4-mini"})
        _, token = await api.user("thinking-client")
        status, key = await api.call("POST", "/api-keys", token, json={})
        assert status == 201, key
        client = AsyncOpenAI(base_url=f"{api.base_url}/v1", api_key=key["key"], max_retries=0)
        try:
            yield api, client
        finally:
            await client.close()


def sent(api: Api) -> dict[str, Any]:
    recorded = api.llm.requests_to("/chat/completions")
    assert recorded, "nothing reached the upstream"
    return recorded[-1].body


async def test_no_limit_goes_up_under_the_models_own_key(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, client):
        answer = await client.chat.completions.create(model="thinker", messages=HI)
        assert answer.choices[0].message.content == "Echo: Think."
        assert answer.model == "thinker"
        body = sent(api)
        assert body["model"] == "o4-mini"
        assert body["max_completion_tokens"] == 64 and "max_tokens" not in body

        # Streamed too: the same body rules.
        stream = await client.chat.completions.create(model="thinker", messages=HI, stream=True)
        assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert sent(api)["max_completion_tokens"] == 64 and "max_tokens" not in sent(api)

        # An ordinary model's server knows only max_tokens: that is what it gets.
        await client.chat.completions.create(model="plain", messages=HI)
        body = sent(api)
        assert body["max_tokens"] == 64 and "max_completion_tokens" not in body


async def test_the_clients_own_key_goes_up_as_sent(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, client):
        await client.chat.completions.create(model="thinker", messages=HI, max_completion_tokens=10)
        body = sent(api)
        assert body["max_completion_tokens"] == 10 and "max_tokens" not in body

        # max_tokens to a reasoning model is the client's mistake: passed through
        # unchanged (not renamed), and the upstream's 400 comes back as it said it.
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(model="thinker", messages=HI, max_tokens=10)
        body = sent(api)
        assert body["max_tokens"] == 10 and "max_completion_tokens" not in body
        error = refused.value.body
        assert isinstance(error, dict)
        assert error["code"] == "unsupported_parameter" and error["param"] == "max_tokens"
        assert "Use 'max_completion_tokens' instead." in error["message"]

        # A limit above the model's maximum is lowered under the client's own key.
        await client.chat.completions.create(model="plain", messages=HI, max_tokens=500)
        assert sent(api)["max_tokens"] == 64


async def test_a_low_balance_caps_under_the_models_key(sqlite_url: str, tmp_path: Path) -> None:
    # 0.5 credit plus the default overdraft of 1 credit hold 1.5 credits: 15 tokens at
    # 0.1 credit each, less than the model's 64.
    async with gateway(sqlite_url, tmp_path, welcome_credits="0.5") as (api, client):
        answer = await client.chat.completions.create(model="thinker", messages=HI)
        assert answer.choices[0].finish_reason == "stop"
        body = sent(api)
        assert body["max_completion_tokens"] == 15 and "max_tokens" not in body


async def test_the_stored_context_chat_sends_the_models_key_too(
    sqlite_url: str, tmp_path: Path
) -> None:
    """/ask (like the messengers: core.chat) streams through the provider's own request,
    not the gateway's pass-through; a reasoning model must get its key there as well."""
    async with gateway(sqlite_url, tmp_path) as (api, _):
        _, token = await api.user("thinking-chatter")
        status, answer = await api.call(
            "POST", "/ask", token, json={"text": "Think.", "model": "thinker"}
        )
        assert status == 200, answer
        body = sent(api)
        assert body["model"] == "o4-mini"
        assert "max_tokens" not in body
        assert 1 <= body["max_completion_tokens"] <= 64
