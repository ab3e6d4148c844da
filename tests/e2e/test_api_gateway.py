"""The /v1 pass-through routes with the official ``openai`` client: one model,
embeddings, legacy completions, the Responses API (streamed and not), image edits and
variations, translations and files. Each test asserts what the fake upstream received
(the body unchanged but ``model``), what the client got back, and what was billed."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from openai import APIError, AsyncOpenAI, BadRequestError, NotFoundError

from core.money import MICRO, price_of
from core.services.media import minutes_started
from core.types import Outcome
from tests.e2e.api_harness import Api, running_api
from tests.fakes.llm_media import png

MODELS = """
default_chat_model = "gpt-4o-mini"

[providers.openai]
api_key_env = "OPENAI_API_KEY"

[providers.local]                 # the same fake server, declared without most routes
api_key_env = "OPENAI_API_KEY"
endpoints = ["chat/completions"]

[models."gpt-4o-mini"]
input_credits_per_1k = 10
output_credits_per_1k = 20
max_output_tokens = 64

[models."chat-alias"]             # a client id that differs from the upstream's
upstream = "gpt-4o-mini"
input_credits_per_1k = 30
output_credits_per_1k = 60
max_output_tokens = 64

[models."admin-only"]
roles = ["admin"]

[models."local-chat"]
provider = "local"
input_credits_per_1k = 10
output_credits_per_1k = 20

[models."embed-small"]
kind = "embedding"
upstream = "text-embedding-3-small"
input_credits_per_1k = 7

[models."dall-e-2"]
kind = "image"
credits_per_image = 40

[models."whisper-1"]
kind = "stt"
credits_per_minute = 6
"""


@asynccontextmanager
async def gateway(url: str, tmp_path: Path) -> AsyncIterator[tuple[Api, int, AsyncOpenAI]]:
    models = tmp_path / "models.toml"
    models.write_text(MODELS, encoding="utf-8")
    async with running_api(url, models_file=models, welcome_credits="1000") as api:
        account_id, client = await key_client(api, "gateway-user")
        try:
            yield api, account_id, client
        finally:
            await client.close()


async def key_client(api: Api, username: str) -> tuple[int, AsyncOpenAI]:
    account_id, token = await api.user(username)
    status, key = await api.call("POST", "/api-keys", token, json={})
    assert status == 201, key
    client = AsyncOpenAI(base_url=f"{api.base_url}/v1", api_key=key["key"], max_retries=0)
    return account_id, client


async def balance(api: Api, account_id: int) -> int:
    async with api.app.uow() as uow:
        account = await uow.accounts.get(account_id)
        assert account is not None
        assert account.balance == await uow.ledger.sum_for(account_id)
        return account.balance


def tokens_price(api: Api, model: str, prompt: int, completion: int) -> int:
    spec = api.app.core.models.get(model)
    assert spec is not None
    return price_of(prompt, spec.input_per_1k) + price_of(completion, spec.output_per_1k)


def last(api: Api, path: str) -> dict[str, Any]:
    sent = api.llm.requests_to(path)
    assert sent, f"nothing reached {path}"
    return sent[-1].body


async def test_model_object_and_embeddings(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, account_id, client):
        model = await client.models.retrieve("chat-alias")
        assert (model.id, model.object) == ("chat-alias", "model")
        for refused in ("no-such-model", "admin-only"):  # unknown, or not for this role
            with pytest.raises(NotFoundError):
                await client.models.retrieve(refused)

        before = await balance(api, account_id)
        answer = await client.embeddings.create(
            model="embed-small", input=["hello big world", "again"], dimensions=4, user="u-1"
        )
        sent = last(api, "/embeddings")
        assert sent == {
            "model": "text-embedding-3-small",
            "input": ["hello big world", "again"],
            "dimensions": 4,
            "user": "u-1",
            "encoding_format": "base64",  # the SDK's own choice, passed on
        }
        assert answer.model == "embed-small"
        assert [len(item.embedding) for item in answer.data] == [4, 4]
        assert answer.usage.prompt_tokens == 4  # the fake counts words
        assert before - await balance(api, account_id) == tokens_price(api, "embed-small", 4, 0)


async def test_legacy_completions(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, account_id, client):
        api.llm.script(reply="one two three four")
        before = await balance(api, account_id)
        answer = await client.completions.create(
            model="chat-alias", prompt="Count to four", n=2, temperature=0.3, max_tokens=10
        )
        sent = last(api, "/completions")
        assert sent == {
            "model": "gpt-4o-mini",
            "prompt": "Count to four",
            "n": 2,
            "temperature": 0.3,
            "max_tokens": 10,
        }
        assert answer.model == "chat-alias"
        assert [c.text for c in answer.choices] == ["one two three four"] * 2
        assert answer.usage is not None
        assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (3, 8)
        spent = before - await balance(api, account_id)
        assert spent == tokens_price(api, "chat-alias", 3, 8)

        # No limit given, or one above the model's: the model's maximum goes upstream.
        await client.completions.create(model="gpt-4o-mini", prompt="hi")
        assert last(api, "/completions")["max_tokens"] == 64
        await client.completions.create(model="gpt-4o-mini", prompt="hi", max_tokens=5000)
        assert last(api, "/completions")["max_tokens"] == 64

        before = await balance(api, account_id)
        stream = await client.completions.create(
            model="chat-alias", prompt="Count to four", stream=True, max_tokens=10
        )
        chunks = [chunk async for chunk in stream]
        assert "".join(c.choices[0].text for c in chunks if c.choices) == "one two three four"
        assert all(c.model == "chat-alias" for c in chunks)
        assert all(c.usage is None for c in chunks)  # the client did not ask for usage
        sent = last(api, "/completions")
        assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
        spent = before - await balance(api, account_id)
        assert spent == tokens_price(api, "chat-alias", 3, 4)

        stream = await client.completions.create(
            model="gpt-4o-mini",
            prompt="Count to four",
            stream=True,
            stream_options={"include_usage": True},
        )
        usages = [c.usage for c in [chunk async for chunk in stream] if c.usage is not None]
        assert [(u.prompt_tokens, u.completion_tokens) for u in usages] == [(3, 4)]


async def test_completions_stream_cut_is_charged_for_what_came(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, account_id, client):
        api.llm.script(reply="a b c d e f g h", cut_after=3)
        before = await balance(api, account_id)
        stream = await client.completions.create(
            model="gpt-4o-mini", prompt="letters", stream=True, max_tokens=40
        )
        texts: list[str] = []
        with pytest.raises(APIError):  # the error event that ends a cut stream
            async for chunk in stream:
                texts.append(chunk.choices[0].text)
        assert "".join(texts) == "a b c"
        spent = before - await balance(api, account_id)
        assert 0 < spent < tokens_price(api, "gpt-4o-mini", 10, 40)
        async with api.app.uow() as uow:
            rows = await uow.usage.recent(account_id, 5)
        assert rows[0].outcome is Outcome.CUT

        # An error event from the upstream mid-stream reaches the client as it was sent.
        api.llm.script(reply="a b c d e f g h", midstream_error_after=2, error_message="boom")
        stream = await client.completions.create(
            model="gpt-4o-mini", prompt="letters", stream=True, max_tokens=40
        )
        with pytest.raises(APIError) as failed:
            async for _ in stream:
                pass
        assert "boom" in str(failed.value)
        async with api.app.uow() as uow:
            rows = await uow.usage.recent(account_id, 5)
        assert rows[0].outcome is Outcome.CUT and rows[0].credits > 0


async def test_responses_whole_and_streamed(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, account_id, client):
        api.llm.script(reply="Hello from the Responses API")
        before = await balance(api, account_id)
        response = await client.responses.create(
            model="chat-alias",
            input="Say hello",
            instructions="Be brief",
            temperature=0.5,
            metadata={"trace": "t-1"},
            max_output_tokens=32,
        )
        sent = last(api, "/responses")
        assert sent == {
            "model": "gpt-4o-mini",
            "input": "Say hello",
            "instructions": "Be brief",
            "temperature": 0.5,
            "metadata": {"trace": "t-1"},
            "max_output_tokens": 32,
        }
        assert response.model == "chat-alias"
        assert response.output_text == "Hello from the Responses API"
        assert response.usage is not None
        assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 5)
        spent = before - await balance(api, account_id)
        assert spent == tokens_price(api, "chat-alias", 4, 5)

        before = await balance(api, account_id)
        stream = await client.responses.create(
            model="chat-alias", input=[{"role": "user", "content": "Say hello"}], stream=True
        )
        events = [event async for event in stream]
        kinds = [e.type for e in events]
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
        assert "".join(deltas) == "Hello from the Responses API"
        completed = events[-1]
        assert completed.type == "response.completed"
        assert completed.response.model == "chat-alias"
        sent = last(api, "/responses")
        assert sent["stream"] is True and sent["max_output_tokens"] == 64
        assert sent["input"] == [{"role": "user", "content": "Say hello"}]
        spent = before - await balance(api, account_id)
        assert spent == tokens_price(api, "chat-alias", 2, 5)


# OpenAI marks variations and translations deprecated in its SDK; they still exist.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_image_edits_variations_and_translations(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, account_id, client):
        picture = png("source", 4)
        before = await balance(api, account_id)
        edited = await client.images.edit(
            model="dall-e-2",
            image=("in.png", picture, "image/png"),
            prompt="make it blue",
            n=2,
            response_format="b64_json",
        )
        sent = last(api, "/images/edits")
        assert sent["model"] == "dall-e-2" and sent["prompt"] == "make it blue"
        assert sent["n"] == "2" and sent["response_format"] == "b64_json"
        assert sent["image"]["data"] == picture and sent["image"]["filename"] == "in.png"
        assert edited.data is not None and len(edited.data) == 2
        assert base64.b64decode(edited.data[0].b64_json or "")[:4] == b"\x89PNG"
        assert before - await balance(api, account_id) == 2 * 40 * MICRO

        before = await balance(api, account_id)
        varied = await client.images.create_variation(
            model="dall-e-2", image=("in.png", picture, "image/png")
        )
        assert varied.data is not None and len(varied.data) == 1
        assert last(api, "/images/variations")["image"]["data"] == picture
        assert before - await balance(api, account_id) == 40 * MICRO

        audio = b"OggS" + b"\0" * 3000
        before = await balance(api, account_id)
        translated = await client.audio.translations.create(
            model="whisper-1",
            file=("note.ogg", audio),
            response_format="verbose_json",
            prompt="names: Ana",
        )
        assert translated.text == "Hello from the fake transcriber."
        sent = last(api, "/audio/translations")
        assert sent["file"]["data"] == audio and sent["prompt"] == "names: Ana"
        per_minute = 6 * MICRO
        assert before - await balance(api, account_id) == minutes_started(2.5) * per_minute

        # A format without a duration: charged for the longest audio accepted.
        before = await balance(api, account_id)
        text = await client.audio.translations.create(
            model="whisper-1", file=("note.ogg", audio), response_format="text"
        )
        assert str(text).strip() == "Hello from the fake transcriber."
        worst = minutes_started(api.app.core.config.max_audio_seconds) * per_minute
        assert before - await balance(api, account_id) == worst


async def test_endpoint_the_provider_lacks(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, account_id, client):
        before, sent = await balance(api, account_id), len(api.llm.requests)
        with pytest.raises(BadRequestError) as refused:
            await client.completions.create(model="local-chat", prompt="hi")
        assert "local-chat" in str(refused.value) and "/v1/completions" in str(refused.value)
        assert len(api.llm.requests) == sent  # nothing reached the upstream
        assert await balance(api, account_id) == before  # nothing charged


async def test_files_are_seen_only_by_their_owner(db_url: str, tmp_path: Path) -> None:
    async with gateway(db_url, tmp_path) as (api, _, owner):
        _, other = await key_client(api, "someone-else")
        try:
            uploaded = await owner.files.create(
                file=("batch.jsonl", b'{"custom_id": "1"}\n'), purpose="batch"
            )
            assert uploaded.filename == "batch.jsonl" and uploaded.purpose == "batch"
            assert last(api, "/files")["purpose"] == "batch"
            assert [f.id async for f in owner.files.list()] == [uploaded.id]
            assert (await owner.files.retrieve(uploaded.id)).bytes == 19
            content = await owner.files.content(uploaded.id)
            assert content.read() == b'{"custom_id": "1"}\n'

            assert [f.id async for f in other.files.list()] == []
            # Pages are cut after the filtering: another account's files never shorten one.
            theirs = await other.files.create(file=("x.txt", b"x"), purpose="user_data")
            second = await owner.files.create(file=("b.jsonl", b"{}\n"), purpose="batch")
            third = await owner.files.create(file=("v.png", b"png"), purpose="vision")
            page = await owner.files.list(limit=2)
            assert [f.id for f in page.data] == [third.id, second.id] and page.has_more
            everything = [f.id async for f in owner.files.list(limit=2)]  # follows `after`
            assert everything == [third.id, second.id, uploaded.id]
            batch = [f.id async for f in owner.files.list(purpose="batch")]
            assert batch == [second.id, uploaded.id]
            assert [f.id async for f in other.files.list()] == [theirs.id]
            reached = len(api.llm.requests)
            for attempt in (
                other.files.retrieve(uploaded.id),
                other.files.content(uploaded.id),
                other.files.delete(uploaded.id),
            ):
                with pytest.raises(NotFoundError):
                    await attempt
            assert len(api.llm.requests) == reached  # refused here, not upstream
            assert uploaded.id in api.llm.files.objects

            deleted = await owner.files.delete(uploaded.id)
            assert deleted.deleted is True and uploaded.id not in api.llm.files.objects
            with pytest.raises(NotFoundError):
                await owner.files.retrieve(uploaded.id)
        finally:
            await other.close()


async def _settled(api: Api, account_id: int, count: int) -> list[Any]:
    """The account's usage events once ``count`` exist (a handler cancelled by a client
    that left settles a moment after the client is gone)."""
    for _ in range(200):
        async with api.app.uow() as uow:
            rows = await uow.usage.recent(account_id, 10)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} settlement(s) never came")


async def test_a_client_leaving_a_responses_stream_stops_it_and_pays_what_came(
    db_url: str, tmp_path: Path
) -> None:
    async with gateway(db_url, tmp_path) as (api, account_id, client):
        words = " ".join(f"w{i}" for i in range(40))
        api.llm.script(reply=words, delay=0.02)
        key = client.api_key
        before = await balance(api, account_id)
        body = {"model": "gpt-4o-mini", "input": "go", "stream": True}
        headers = {"Authorization": f"Bearer {key}"}
        async with api.http.post(
            f"{api.base_url}/v1/responses", json=body, headers=headers
        ) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            seen = b""
            while seen.count(b"response.output_text.delta") < 6:
                seen += await response.content.readany()
            assert seen.startswith(b"event: response.created\ndata: ")
            response.close()  # gone mid-stream
        assert await api.llm.wait_for_disconnects(1)
        rows = await _settled(api, account_id, 1)
        assert rows[0].outcome is Outcome.STOPPED
        spent = before - await balance(api, account_id)
        assert 0 < spent < tokens_price(api, "gpt-4o-mini", 2, 40)


async def test_refusals_reach_no_upstream_and_cost_nothing(sqlite_url: str, tmp_path: Path) -> None:
    async with gateway(sqlite_url, tmp_path) as (api, account_id, client):
        api.llm.enqueue(fail_before_output=500)
        before, reached = await balance(api, account_id), len(api.llm.requests)
        with pytest.raises(APIError):
            await client.embeddings.create(model="embed-small", input="hi")
        assert await balance(api, account_id) == before  # refunded in full
        assert len(api.llm.requests) == reached + 1
        with pytest.raises(NotFoundError):  # a chat model is no embedding model
            await client.embeddings.create(model="gpt-4o-mini", input="hi")
        with pytest.raises(NotFoundError):
            await client.responses.create(model="embed-small", input="hi")
        assert len(api.llm.requests) == reached + 1
        assert await balance(api, account_id) == before
