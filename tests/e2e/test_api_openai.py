"""The official ``openai`` client against /v1: chat (streamed and not), images, speech,
transcription; the usage it reports matches what the ledger charged."""

from __future__ import annotations

import base64

import pytest
from openai import AsyncOpenAI, NotFoundError

from core.money import price_of
from core.types import LedgerKind
from tests.e2e.api_harness import Api, running_api


async def _charged(api: Api, account_id: int, request_id: str) -> int:
    async with api.app.core.accounts._uow() as uow:
        rows = await uow.ledger.entries(account_id, 100)
    mine = [r for r in rows if r.request_id == request_id]
    assert {r.kind for r in mine} == {LedgerKind.HOLD, LedgerKind.SETTLE}
    return -sum(r.amount for r in mine)


def _chat_price(api: Api, prompt: int, completion: int) -> int:
    model = api.app.core.models.get("gpt-4o-mini")
    assert model is not None
    return price_of(prompt, model.input_per_1k) + price_of(completion, model.output_per_1k)


async def test_openai_client_chat_images_speech_transcription(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        account_id, token = await api.user("oai")
        status, key = await api.call("POST", "/api-keys", token, json={})
        assert status == 201
        client = AsyncOpenAI(base_url=f"{api.base_url}/v1", api_key=key["key"], max_retries=0)
        try:
            models = await client.models.list()
            assert "gpt-4o-mini" in {m.id for m in models.data}

            api.llm.script(reply="Paris is the capital of France.")
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Capital of France?"}]
            )
            completion = raw.parse()
            assert completion.choices[0].message.content == "Paris is the capital of France."
            usage = completion.usage
            assert usage is not None and usage.completion_tokens > 0
            request_id = raw.headers["x-request-id"]
            charged = await _charged(api, account_id, request_id)
            assert charged == _chat_price(api, usage.prompt_tokens, usage.completion_tokens)

            api.llm.script(reply="One two three four five six", delay=0.01)
            raw_stream = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini",
                messages=[
                    {"role": "system", "content": "Be brief"},
                    {"role": "user", "content": "Count"},
                ],
                stream=True,
                stream_options={"include_usage": True},
            )
            stream = raw_stream.parse()
            text, last_usage = "", None
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
                if chunk.usage is not None:
                    last_usage = chunk.usage
            assert text == "One two three four five six"
            assert last_usage is not None
            charged = await _charged(api, account_id, raw_stream.headers["x-request-id"])
            assert charged == _chat_price(
                api, last_usage.prompt_tokens, last_usage.completion_tokens
            )

            image = await client.images.generate(model="gpt-image-1", prompt="a red square")
            assert image.data and base64.b64decode(image.data[0].b64_json or "")[:4] == b"\x89PNG"

            speech = await client.audio.speech.create(model="tts-1", voice="alloy", input="Hello")
            assert (await speech.aread())[:4] == b"OggS"

            transcript = await client.audio.transcriptions.create(
                model="whisper-1", file=("note.ogg", b"OggS" + b"\0" * 2000)
            )
            assert transcript.text == "Hello from the fake transcriber."

            with pytest.raises(NotFoundError):
                await client.chat.completions.create(
                    model="no-such-model", messages=[{"role": "user", "content": "hi"}]
                )
        finally:
            await client.close()
        # Every paid call reached the books: balance == ledger sum.
        async with api.app.core.accounts._uow() as uow:
            account = await uow.accounts.get(account_id)
            assert account is not None
            assert account.balance == await uow.ledger.sum_for(account_id)
            assert account.balance < api.app.core.config.welcome_credits
