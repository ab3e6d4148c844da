"""Voice notes (transcribed, shown, answered), /transcribe, /image and /tts end to end."""

from __future__ import annotations

from typing import Any

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import (
    command,
    running_bot,
    say,
    settings_for,
    texts,
    until,
)
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 801


def voice_message(server: FakeTelegramServer, size: int | None = None) -> dict[str, Any]:
    data = b"OggS" + b"\x00" * 2000
    file_id = server.add_file(data, "voice/note.oga")
    voice = {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}",
        "duration": 3,
        "mime_type": "audio/ogg",
        "file_size": size if size is not None else len(data),
    }
    message = server.user_message(USER, "", voice=voice)
    del message["text"]
    return message


async def test_voice_note_transcribed_shown_and_answered(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(transcript="What is the capital of France?", reply="Paris.")
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        server.push_update({"message": voice_message(server)})
        await until(lambda: len(texts(server, USER)) == 2, what="transcript and answer")
        assert texts(server, USER) == ["Transcript: What is the capital of France?", "Paris."]
        (stt,) = llm.requests_to("/audio/transcriptions")
        asked = llm.requests_to("/chat/completions")[0].body["messages"][-1]["content"]
        assert asked == "What is the capital of France?"
        assert server.calls_for("getFile") and stt.body

        # /transcribe as a reply to a voice note: the transcript only.
        note = voice_message(server)
        say(server, USER, "/transcribe", reply_to_message=note, **command("/transcribe"))
        await until(lambda: len(texts(server, USER)) == 3, what="/transcribe")
        assert texts(server, USER)[-1] == "Transcript: What is the capital of France?"
        assert len(llm.requests_to("/chat/completions")) == 1

        # Too large for Telegram to hand over: refused before any download or charge.
        downloads = len(server.calls_for("getFile"))
        server.push_update({"message": voice_message(server, size=25 * 1024 * 1024)})
        await until(lambda: len(texts(server, USER)) == 4, what="the refusal")
        assert "too large" in texts(server, USER)[-1] and "20 MB" in texts(server, USER)[-1]
        assert len(server.calls_for("getFile")) == downloads
        assert len(llm.requests_to("/audio/transcriptions")) == 2


async def test_image_and_tts(sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer) -> None:
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, USER, "/image a red fox", **command("/image"))
        await until(lambda: server.calls_for("sendPhoto"), what="the photo")
        say(server, USER, "/tts good morning", **command("/tts"))
        await until(lambda: server.calls_for("sendVoice"), what="the voice note")
        say(server, USER, "/image", **command("/image"))
        await until(lambda: texts(server, USER), what="the empty-prompt hint")
    (photo,) = server.calls_for("sendPhoto")
    assert photo.ok and photo.params["caption"] == "a red fox"
    assert next(iter(photo.files.values())).startswith(b"\x89PNG")
    (voice,) = server.calls_for("sendVoice")
    assert voice.ok and next(iter(voice.files.values()))[:4] == b"OggS"
    assert llm.requests_to("/audio/speech")[0].body["input"] == "good morning"
    actions = {c.params["action"] for c in server.calls_for("sendChatAction")}
    assert {"upload_photo", "record_voice"} <= actions
    assert texts(server, USER) == ["Please add some text after the command."]
