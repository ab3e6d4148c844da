"""Images, speech and transcription: prices, refunds and input limits."""

from __future__ import annotations

import pytest

from core.errors import (
    AudioTooLarge,
    AudioTooLong,
    EmptyInput,
    InputTooLong,
    NotAllowed,
    UpstreamError,
)
from core.money import MICRO
from core.services.requests import ImageRequest, SpeechRequest, TranscriptionRequest
from core.types import Role
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on, with_config


@pytest.fixture
async def env():
    store = MemoryStore()
    async with (
        FakeLLM() as llm,
        core_on(
            memory_uow_factory(store),
            llm.base_url,
            config=with_config(max_audio_bytes=1000, max_audio_seconds=120, max_tts_chars=100),
        ) as core,
    ):
        yield core, llm


async def balance(core) -> int:
    return (await core.accounts.resolve(caller("1"))).balance


async def test_image_is_charged_per_image(env):
    core, llm = env
    image = await core.media.image(ImageRequest(caller=caller("1"), chat_id="c", prompt="a cat"))
    assert image.data.startswith(b"\x89PNG") and image.credits == 40 * MICRO
    assert await balance(core) == 60 * MICRO
    assert llm.requests_to("/images/generations")[0].body["response_format"] == "b64_json"


async def test_speech_is_charged_per_thousand_characters_rounded_up(env):
    core, _ = env
    audio = await core.media.speech(SpeechRequest(caller=caller("1"), chat_id="c", text="hello"))
    assert audio.data.startswith(b"OggS")
    assert audio.credits == 15 * MICRO * 5 // 1000  # 5 characters at 15 credits per 1,000
    with pytest.raises(InputTooLong):
        await core.media.speech(SpeechRequest(caller=caller("1"), chat_id="c", text="x" * 101))


async def test_transcription_is_charged_per_started_minute_of_decoded_audio(env):
    core, llm = env
    llm.script(transcript="hello world", transcript_duration=61.0)
    transcript, cost = await core.media.transcribe(
        TranscriptionRequest(caller=caller("1"), chat_id="c", audio=b"OggS...", declared_seconds=61)
    )
    assert transcript.text == "hello world" and cost == 12 * MICRO
    assert await balance(core) == 88 * MICRO


async def test_audio_limits_are_checked_before_any_reservation(env):
    core, llm = env
    with pytest.raises(AudioTooLarge):
        await core.media.transcribe(
            TranscriptionRequest(caller=caller("1"), chat_id="c", audio=b"x" * 1001)
        )
    with pytest.raises(AudioTooLong):
        await core.media.transcribe(
            TranscriptionRequest(caller=caller("1"), chat_id="c", audio=b"x", declared_seconds=121)
        )
    with pytest.raises(EmptyInput):
        await core.media.transcribe(
            TranscriptionRequest(caller=caller("1"), chat_id="c", audio=b"")
        )
    assert llm.requests == []
    assert await balance(core) == 100 * MICRO


async def test_failed_media_call_refunds(env):
    core, llm = env
    llm.script(fail_before_output=500)
    with pytest.raises(UpstreamError):
        await core.media.image(ImageRequest(caller=caller("1"), chat_id="c", prompt="a cat"))
    assert await balance(core) == 100 * MICRO


async def test_media_roles_come_from_the_models_file(env):
    core, llm = env
    admin = caller("6")
    guest = caller("5")
    await core.accounts.resolve(guest)
    async with core_on(
        memory_uow_factory(MemoryStore()),
        llm.base_url,
        config=with_config(new_account_role=Role.GUEST),
    ) as guests_core:
        with pytest.raises(NotAllowed):
            await guests_core.media.image(ImageRequest(caller=guest, chat_id="c", prompt="a cat"))
        with pytest.raises(NotAllowed):
            await guests_core.media.speech(SpeechRequest(caller=admin, chat_id="c", text="hi"))
    assert llm.requests == []
