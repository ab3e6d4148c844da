"""/v1/files uploads priced by GATEWAY_FILE_CREDITS_PER_MB: the whole price of the file's
started megabytes is reserved before the provider is asked, charged when it took the
file and refunded when it did not; without a price (the default) uploads stay free and
leave no usage behind."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.e2e.api_harness import Api, running_api

MB = 1024 * 1024
ONE_AND_A_HALF_MB = b"x" * (MB + MB // 2)


async def key_client(api: Api, token: str, **limits: Any) -> AsyncOpenAI:
    status, key = await api.call("POST", "/api-keys", token, json=limits)
    assert status == 201, key
    return AsyncOpenAI(base_url=f"{api.base_url}/v1", api_key=key["key"], max_retries=0)


async def balance(api: Api, token: str) -> int:
    status, body = await api.call("GET", "/balance", token)
    assert status == 200, body
    return int(body["balance_micro"])


async def usage_today(api: Api, token: str) -> list[dict[str, Any]]:
    status, body = await api.call("GET", "/users/me/usage", token)
    assert status == 200, body
    lines: list[dict[str, Any]] = body["today"]["lines"]
    return lines


def uploads(api: Api) -> int:
    """Uploads that reached the provider (the fake records each POST /files)."""
    return len(api.llm.requests_to("/files"))


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    assert isinstance(exc.body, dict)
    return exc.body


async def test_an_upload_costs_its_started_megabytes(sqlite_url: str) -> None:
    async with running_api(sqlite_url, gateway_file_credits_per_mb="0.5") as api:
        _, token = await api.user("payer")
        client = await key_client(api, token)
        before = await balance(api, token)
        try:
            uploaded = await client.files.create(
                file=("big.jsonl", ONE_AND_A_HALF_MB), purpose="batch"
            )
            assert uploaded.bytes == len(ONE_AND_A_HALF_MB)
            assert [f.id async for f in client.files.list()] == [uploaded.id]
        finally:
            await client.close()
        # 1.5 MB is two started megabytes: 2 x 0.5 credits.
        assert before - await balance(api, token) == 1_000_000
        (line,) = await usage_today(api, token)
        assert (line["feature"], line["requests"], line["credits_micro"]) == (
            "files",
            1,
            1_000_000,
        )


async def test_a_refused_upload_costs_nothing(sqlite_url: str) -> None:
    async with running_api(sqlite_url, gateway_file_credits_per_mb="0.5") as api:
        _, token = await api.user("refused")
        client = await key_client(api, token)
        before = await balance(api, token)
        api.llm.enqueue(fail_before_output=400, error_message="Invalid file format.")
        try:
            with pytest.raises(openai.APIStatusError):
                await client.files.create(file=("bad.jsonl", b"{"), purpose="batch")
            assert uploads(api) == 1  # the provider was asked, and said no
            assert [f async for f in client.files.list()] == []
        finally:
            await client.close()
        assert await balance(api, token) == before
        assert all(line["credits_micro"] == 0 for line in await usage_today(api, token))


async def test_an_upload_the_balance_cannot_pay_never_reaches_the_provider(
    sqlite_url: str,
) -> None:
    settings = {"gateway_file_credits_per_mb": "5", "welcome_credits": "1", "max_overdraft": "0"}
    async with running_api(sqlite_url, **settings) as api:
        _, token = await api.user("short")
        client = await key_client(api, token)
        try:
            with pytest.raises(openai.RateLimitError) as broke:
                await client.files.create(file=("a.jsonl", b"{}\n"), purpose="batch")
        finally:
            await client.close()
        assert error_of(broke.value)["code"] == "insufficient_quota"
        assert uploads(api) == 0
        assert await balance(api, token) == 1_000_000


async def test_a_key_budget_below_the_price_refuses_the_upload(sqlite_url: str) -> None:
    async with running_api(sqlite_url, gateway_file_credits_per_mb="1") as api:
        _, token = await api.user("budgeted")
        client = await key_client(api, token, budget_micro=999_999)
        before = await balance(api, token)
        try:
            with pytest.raises(openai.APIStatusError) as refused:
                await client.files.create(file=("a.jsonl", b"{}\n"), purpose="batch")
        finally:
            await client.close()
        assert error_of(refused.value)["code"] == "key_budget_exhausted"
        assert uploads(api) == 0
        assert await balance(api, token) == before


async def test_without_a_price_uploads_are_free_and_unrecorded(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        _, token = await api.user("free")
        client = await key_client(api, token)
        before = await balance(api, token)
        try:
            await client.files.create(file=("big.jsonl", ONE_AND_A_HALF_MB), purpose="batch")
        finally:
            await client.close()
        assert uploads(api) == 1
        assert await balance(api, token) == before
        assert await usage_today(api, token) == []


async def test_an_upload_past_the_cap_costs_nothing_and_leaves_no_usage(sqlite_url: str) -> None:
    settings = {"gateway_file_credits_per_mb": "1", "gateway_files_per_account": 1}
    async with running_api(sqlite_url, **settings) as api:
        _, token = await api.user("full")
        client = await key_client(api, token)
        try:
            await client.files.create(file=("a.jsonl", b"{}\n"), purpose="batch")
            after_one = await balance(api, token)
            with pytest.raises(openai.BadRequestError) as refused:
                await client.files.create(file=("b.jsonl", b"{}\n"), purpose="batch")
        finally:
            await client.close()
        assert error_of(refused.value)["code"] == "too_many_files"
        assert uploads(api) == 1
        assert await balance(api, token) == after_one
        (line,) = await usage_today(api, token)
        assert (line["feature"], line["requests"], line["credits_micro"]) == ("files", 1, 1_000_000)
