"""The relay through the real aiogram Bot to the limit-enforcing fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bots.streaming import relay
from bots.telegram.sink import TelegramSink
from core.types import (
    AudioReady,
    ImageReady,
    Notice,
    Outcome,
    ReplyEvent,
    TextDelta,
    TextDone,
    Usage,
)
from tests.fakes.telegram_server import FakeTelegramServer
from tests.pacing import MemoryPacer

PRIVATE = 1001
GROUP = -100500


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    bot = Bot(server.token, session=session)
    try:
        yield bot
    finally:
        await bot.session.close()


async def scripted(
    text: str, *, chunk: int = 20, delay: float = 0.02, outcome: Outcome = Outcome.OK
) -> AsyncIterator[ReplyEvent]:
    full = ""
    for start in range(0, len(text), chunk):
        piece = text[start : start + chunk]
        full += piece
        yield TextDelta(piece, full)
        await asyncio.sleep(delay)
    yield TextDone(full, credits=1, usage=Usage(1, 1), outcome=outcome)


def sink(bot: Bot, chat_id: int, **kwargs: object) -> TelegramSink:
    return TelegramSink(bot, chat_id, request_id="req1", private=chat_id > 0, **kwargs)  # type: ignore[arg-type]


def sent_texts(server: FakeTelegramServer, chat_id: int) -> list[str]:
    return [
        m["text"]
        for (chat, _), m in sorted(server.messages.items())
        if chat == chat_id and "text" in m
    ]


ANSWER = " ".join(f"Sentence number {i} of the answer." for i in range(60))


async def test_group_stream_final_exact_with_stop_then_removed(
    server: FakeTelegramServer, bot: Bot
) -> None:
    result = await relay(
        scripted(ANSWER, chunk=40, delay=0.05),
        sink(bot, GROUP, group_interval_s=0.5),
        MemoryPacer(),
    )
    assert sent_texts(server, GROUP) == [ANSWER]
    assert result.text == ANSWER and server.too_many_requests == 0
    edits = server.calls_for("editMessageText", GROUP)
    first = server.calls_for("sendMessage", GROUP)[0]
    assert first.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "stop:req1"
    assert len(edits) >= 2
    assert all("reply_markup" in call.params for call in edits[:-1])
    assert "reply_markup" not in edits[-1].params  # the final drops the Stop button
    assert "reply_markup" not in server.messages[(GROUP, 1)]
    times = [c.time for c in server.calls_for(chat_id=GROUP)]
    assert all(b - a >= 0.45 for a, b in zip(times, times[1:], strict=False))


async def test_identical_text_never_resent(server: FakeTelegramServer, bot: Bot) -> None:
    async def stalls() -> AsyncIterator[ReplyEvent]:
        yield TextDelta("Hello", "Hello")
        for _ in range(5):
            await asyncio.sleep(0.3)
            yield TextDelta("", "Hello")  # nothing new (e.g. an empty chunk)
        yield TextDelta(" world", "Hello world")
        yield TextDone("Hello world", credits=1, usage=Usage(1, 1))

    await relay(stalls(), sink(bot, GROUP, group_interval_s=0.2), MemoryPacer())
    texts = [c.params["text"] for c in server.calls_for(chat_id=GROUP) if "text" in c.params]
    assert texts[0] == "Hello"
    assert texts.count("Hello") == 1
    assert sent_texts(server, GROUP) == ["Hello world"]
    assert not [c for c in server.calls if "not modified" in c.description]


async def test_private_drafts_then_one_real_message(server: FakeTelegramServer, bot: Bot) -> None:
    result = await relay(scripted(ANSWER, chunk=50, delay=0.05), sink(bot, PRIVATE), MemoryPacer())
    drafts = server.calls_for("sendMessageDraft", PRIVATE)
    assert len(drafts) >= 2 and server.calls_for("editMessageText") == []
    assert [c.method for c in server.calls_for(chat_id=PRIVATE)][-1] == "sendMessage"
    assert sent_texts(server, PRIVATE) == [ANSWER] and result.text == ANSWER
    times = [c.time for c in server.calls_for(chat_id=PRIVATE)]
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False))
    assert server.too_many_requests == 0


async def test_refused_drafts_fall_back_to_edits(server: FakeTelegramServer, bot: Bot) -> None:
    server.drafts_enabled = False
    await relay(scripted(ANSWER, chunk=50, delay=0.05), sink(bot, PRIVATE), MemoryPacer())
    assert len(server.calls_for("sendMessageDraft")) == 1  # refused once, never tried again
    assert server.calls_for("sendMessage", PRIVATE) and server.calls_for("editMessageText", PRIVATE)
    assert sent_texts(server, PRIVATE) == [ANSWER]
    assert server.too_many_requests == 0


async def test_injected_429_waited_out_in_full(server: FakeTelegramServer, bot: Bot) -> None:
    server.inject(method="editMessageText", chat_id=GROUP, retry_after=2)
    result = await relay(
        scripted(ANSWER, chunk=40, delay=0.03),
        sink(bot, GROUP, group_interval_s=0.3),
        MemoryPacer(),
    )
    refused = [c for c in server.calls_for(chat_id=GROUP) if c.status == 429]
    assert len(refused) == 1 and result.retry_afters == 1
    after = [c for c in server.calls_for(chat_id=GROUP) if c.time > refused[0].time]
    assert after, "the final must still be delivered"
    assert after[0].time - refused[0].time >= 2.0
    assert sent_texts(server, GROUP) == [ANSWER]


async def test_markdown_final_and_plain_fallback(server: FakeTelegramServer, bot: Bot) -> None:
    answer = "# Title\n\nSome **bold** and `a < b` code.\n\n```python\nprint(1 < 2)\n```"
    await relay(scripted(answer, chunk=500), sink(bot, GROUP), MemoryPacer())
    message = server.messages[(GROUP, 1)]
    assert message["text"] == "Title\n\nSome bold and a < b code.\n\nprint(1 < 2)"
    kinds = {e["type"] for e in message["entities"]}
    assert {"bold", "code", "pre"} <= kinds
    assert [e["language"] for e in message["entities"] if e["type"] == "pre"] == ["python"]

    server.reject_entities = True
    await relay(scripted(answer, chunk=500), sink(bot, GROUP - 1), MemoryPacer())
    assert sent_texts(server, GROUP - 1) == [answer]  # the plain text, nothing lost
    assert any("can't parse entities" in c.description for c in server.calls)


async def test_long_answer_continues_in_new_messages(server: FakeTelegramServer, bot: Bot) -> None:
    paragraph = "Word " * 99 + "end."
    code = "```python\n" + "\n".join(f"value_{i} = {i} * 2" for i in range(100)) + "\n```"
    answer = "\n\n".join([paragraph] * 5 + [code] + [paragraph] * 9)
    assert 8500 < len(answer) < 9500
    result = await relay(
        scripted(answer, chunk=400, delay=0.01),
        sink(bot, GROUP, group_interval_s=0.2),
        MemoryPacer(),
    )
    texts = sent_texts(server, GROUP)
    assert len(texts) == 3 and len(result.messages) == 3
    assert all(len(t) <= 4096 for t in texts)
    joined = "".join(texts).replace("\n", "").replace(" ", "")
    plain = answer.replace("```python", "").replace("```", "")
    assert joined == plain.replace("\n", "").replace(" ", "")
    code_holder = [m for m in server.messages.values() if "value_0 = 0" in m.get("text", "")]
    assert len(code_holder) == 1 and "value_99 = 99 * 2" in code_holder[0]["text"]
    assert server.too_many_requests == 0


async def test_burst_of_chats_under_global_rate(server: FakeTelegramServer, bot: Bot) -> None:
    pacer = MemoryPacer(global_rate=30)
    chats = [2000 + i for i in range(40)]
    await asyncio.gather(
        *(relay(scripted(ANSWER[:600], chunk=30, delay=0.02), sink(bot, c), pacer) for c in chats)
    )
    assert server.too_many_requests == 0
    assert all(sent_texts(server, c) == [ANSWER[:600]] for c in chats)


async def test_image_sent_as_photo(server: FakeTelegramServer, bot: Bot) -> None:
    async def image() -> AsyncIterator[ReplyEvent]:
        yield ImageReady(b"\x89PNG fake", "image/png", "a cat <3", credits=1)

    await relay(image(), sink(bot, PRIVATE, reply_to=None), MemoryPacer())
    (call,) = server.calls_for("sendPhoto")
    assert call.ok and call.params["caption"] == "a cat <3"
    path, data = next(iter(server.files.values()))
    assert data == b"\x89PNG fake" and path.startswith("photos/")


async def test_stream_error_keeps_what_was_produced(server: FakeTelegramServer, bot: Bot) -> None:
    async def breaks() -> AsyncIterator[ReplyEvent]:
        yield TextDelta("Partial answer", "Partial answer")
        await asyncio.sleep(0.1)
        raise RuntimeError("upstream cut")

    with pytest.raises(RuntimeError):
        await relay(breaks(), sink(bot, GROUP), MemoryPacer())
    assert sent_texts(server, GROUP) == ["Partial answer"]
    assert "reply_markup" not in server.messages[(GROUP, 1)]


async def test_topic_reply_notice_and_voice(server: FakeTelegramServer, bot: Bot) -> None:
    question = server.user_message(GROUP, "q", message_thread_id=5)

    async def events() -> AsyncIterator[ReplyEvent]:
        yield Notice("transcript", text="You said: hello")
        yield TextDelta("Hi!", "Hi!")
        yield TextDone("Hi!", credits=1, usage=Usage(1, 1))
        yield AudioReady(b"OggS fake", "audio/ogg", credits=1)

    target = sink(bot, GROUP, thread_id=5, reply_to=question["message_id"], group_interval_s=0.2)
    await relay(events(), target, MemoryPacer())
    calls = [c for c in server.calls_for(chat_id=GROUP) if c.ok]
    # the text came whole before its first turn: one formatted message, no interim edits
    assert [c.method for c in calls] == ["sendMessage", "sendMessage", "sendVoice"]
    assert all(c.params["message_thread_id"] == "5" for c in calls if c.method != "editMessageText")
    assert calls[0].params["reply_parameters"]["message_id"] == 1  # the first one replies
    assert "reply_parameters" not in calls[1].params
    assert server.messages[(GROUP, 2)]["reply_to_message"]["message_id"] == 1
    assert server.messages[(GROUP, 3)]["text"] == "Hi!"
    assert "voice" in server.messages[(GROUP, 4)]


async def test_fake_server_answers_like_telegram(server: FakeTelegramServer, bot: Bot) -> None:
    from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter

    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(PRIVATE, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(PRIVATE, "<b>open", parse_mode="HTML")
    sent = await bot.send_message(PRIVATE, "<b>bold</b> &amp; more", parse_mode="HTML")
    assert sent.text == "bold & more" and sent.entities and sent.entities[0].type == "bold"
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(PRIVATE, "again at once")
    assert flood.value.retry_after >= 1 and server.too_many_requests == 1
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>bold</b> &amp; more", chat_id=PRIVATE, message_id=sent.message_id, parse_mode="HTML"
        )
    for i in range(20):  # 20 a minute in a group, edits included
        message = await bot.send_message(GROUP, f"m{i}")
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text("edited", chat_id=GROUP, message_id=message.message_id)
    server.limits_enabled = False
    await bot.send_message(GROUP, "limits off")
