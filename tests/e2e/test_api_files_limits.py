"""/v1/files is not billed, but not unlimited: every call counts against the API key's and
the account's requests per minute (429 rate_limit_exceeded with Retry-After, which the
official SDK raises as RateLimitError), and an account keeps at most
GATEWAY_FILES_PER_ACCOUNT files (400 too_many_files, before the provider is asked)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.e2e.api_harness import Api, running_api


async def key_client(api: Api, token: str, **limits: Any) -> AsyncOpenAI:
    status, key = await api.call("POST", "/api-keys", token, json=limits)
    assert status == 201, key
    return AsyncOpenAI(base_url=f"{api.base_url}/v1", api_key=key["key"], max_retries=0)


def uploads(api: Api) -> int:
    """Uploads that reached the provider (the fake records each POST /files)."""
    return len(api.llm.requests_to("/files"))


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    assert isinstance(exc.body, dict)
    return exc.body


async def test_a_keys_requests_per_minute_count_file_calls(
    pg_url: str, redis_url: str, redis_prefix: str
) -> None:
    """Postgres and Redis, as in production: the key's limit of 2 a minute lets two
    uploads through and refuses the third, and the key's other calls, before the
    provider; the account's other key is not held back by it."""
    async with running_api(pg_url, redis_url=redis_url, redis_prefix=redis_prefix) as api:
        _, token = await api.user("uploader")
        slow = await key_client(api, token, requests_per_minute=2)
        free = await key_client(api, token)
        try:
            for n in (1, 2):
                await slow.files.create(file=(f"{n}.jsonl", b"{}\n"), purpose="batch")
            with pytest.raises(openai.RateLimitError) as limited:
                await slow.files.create(file=("3.jsonl", b"{}\n"), purpose="batch")
            assert error_of(limited.value)["code"] == "rate_limit_exceeded"
            assert error_of(limited.value)["type"] == "requests"
            assert int(limited.value.response.headers["retry-after"]) >= 1
            assert uploads(api) == 2  # the third never reached the provider
            with pytest.raises(openai.RateLimitError):
                await slow.files.list()  # every /v1/files call counts, not only uploads

            # The limit is the key's own: another key of the account goes on.
            await free.files.create(file=("4.jsonl", b"{}\n"), purpose="batch")
            assert uploads(api) == 3
            assert len([f async for f in free.files.list()]) == 3
        finally:
            await slow.close()
            await free.close()


async def test_the_accounts_requests_per_minute_count_file_calls(sqlite_url: str) -> None:
    async with running_api(sqlite_url, rate_limits="user:2/5") as api:
        _, token = await api.user("busy")
        client = await key_client(api, token)
        try:
            uploaded = await client.files.create(file=("a.txt", b"a"), purpose="user_data")
            await client.files.retrieve(uploaded.id)
            reached = len(api.llm.requests)
            with pytest.raises(openai.RateLimitError) as limited:
                await client.files.content(uploaded.id)
            assert error_of(limited.value)["code"] == "rate_limit_exceeded"
            assert int(limited.value.response.headers["retry-after"]) >= 1
            assert len(api.llm.requests) == reached
        finally:
            await client.close()


async def test_an_account_keeps_at_most_its_share_of_files(sqlite_url: str) -> None:
    async with running_api(sqlite_url, gateway_files_per_account=3) as api:
        _, token = await api.user("hoarder")
        _, other_token = await api.user("neighbour")
        client = await key_client(api, token)
        other = await key_client(api, other_token)
        try:
            kept = [
                await client.files.create(file=(f"{n}.txt", b"x"), purpose="user_data")
                for n in range(3)
            ]
            with pytest.raises(openai.BadRequestError) as refused:
                await client.files.create(file=("3.txt", b"x"), purpose="user_data")
            error = error_of(refused.value)
            assert (error["type"], error["code"]) == ("invalid_request_error", "too_many_files")
            assert "3 files" in error["message"]
            assert uploads(api) == 3  # refused here: the provider never saw the fourth
            assert len(api.llm.files.objects) == 3

            # The cap is per account: another account uploads as usual.
            await other.files.create(file=("n.txt", b"x"), purpose="user_data")
            # Deleting one makes room again.
            await client.files.delete(kept[0].id)
            await client.files.create(file=("4.txt", b"x"), purpose="user_data")
            assert uploads(api) == 5
        finally:
            await client.close()
            await other.close()
