"""Pictures and documents sent to the Telegram bot, end to end: the real aiogram bot
downloads them from the fake Bot API (getFile, then the file URL), the fake LLM records
what reached it, and the person sees the answer or a clear refusal that cost nothing."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import running_bot, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.sample_files import pdf, picture

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 802
GROUP = -100802


def send(server: FakeTelegramServer, chat: int, **fields: Any) -> dict[str, Any]:
    message = server.user_message(chat, "", user_id=USER, **fields)
    del message["text"]
    server.push_update({"message": message})
    return message


def asked(llm: FakeLLM, n: int = -1) -> Any:
    return llm.requests_to("/chat/completions")[n].body["messages"][-1]["content"]


async def test_photo_with_caption_reaches_the_model_as_an_image(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply="A red square.")
    data = picture(1600, 1200, "JPEG")
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        sizes = server.photo(data, 1600, 1200)
        send(server, USER, photo=sizes, caption="What is this?")
        await until(lambda: texts(server, USER), what="the answer")
        assert texts(server, USER) == ["A red square."]
        text, image = asked(llm)
        assert text == {"type": "text", "text": "What is this?"}
        sent = base64.b64decode(image["image_url"]["url"].split(",", 1)[1])
        assert sent.startswith(b"\xff\xd8") and len(sent) < len(data)
        # The largest size was downloaded, not the thumbnail.
        (get_file,) = server.calls_for("getFile")
        assert get_file.params["file_id"] == sizes[-1]["file_id"]


async def test_album_is_one_question_with_every_picture(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        for n in range(3):
            caption = {"caption": "Which is reddest?"} if n == 0 else {}
            data = picture(300 + n, 200, "JPEG")
            send(server, USER, photo=server.photo(data, 300 + n, 200), media_group_id="A1",
                 **caption)  # fmt: skip
        await until(lambda: texts(server, USER), what="one answer")
    (request,) = llm.requests_to("/chat/completions")
    parts = request.body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "image_url", "image_url"]
    assert parts[0]["text"] == "Which is reddest?"
    assert len(texts(server, USER)) == 1


async def test_pdf_text_goes_with_the_question(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    doc = pdf(["Invoice total: 1,234 EUR", "Due 2026-12-31"])
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        send(server, USER, document=server.document(doc, "invoice.pdf", "application/pdf"),
             caption="When is it due?")  # fmt: skip
        await until(lambda: texts(server, USER), what="the answer")
    question = asked(llm)
    assert question.startswith('When is it due?\n\n<document name="invoice.pdf">')
    assert "Invoice total: 1,234 EUR" in question and "Due 2026-12-31" in question


async def test_bad_files_get_clear_messages_and_cost_nothing(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer, tmp_path: Path
) -> None:
    settings = settings_for(sqlite_url, llm, server, max_document_pages=3)
    async with running_bot(settings, server, llm):
        # 100 MB declared: refused before getFile.
        huge = server.document(b"x", "big.pdf", "application/pdf", declared_size=100 * 2**20)
        send(server, USER, document=huge, caption="read this")
        await until(lambda: len(texts(server, USER)) == 1, what="too large")
        assert "too large (100.0 MB; the limit is 10 MB)" in texts(server, USER)[0]
        assert server.calls_for("getFile") == []

        send(server, USER, photo=server.photo(b"\xff\xd8\xff garbage", 10, 10))
        await until(lambda: len(texts(server, USER)) == 2, what="corrupt image")
        assert "couldn't open that picture" in texts(server, USER)[1]

        many = server.document(pdf(["p"] * 5), "long.pdf", "application/pdf")
        send(server, USER, document=many)
        await until(lambda: len(texts(server, USER)) == 3, what="too many pages")
        assert "5 pages; I read at most 3" in texts(server, USER)[2]

        scan = server.document(pdf(["", ""]), "scan.pdf", "application/pdf")
        send(server, USER, document=scan)
        await until(lambda: len(texts(server, USER)) == 4, what="no text")
        assert "scan.pdf has no text" in texts(server, USER)[3]

        exe = server.document(b"MZ\x90\x00", "setup.exe", "application/x-msdownload")
        send(server, USER, document=exe)
        await until(lambda: len(texts(server, USER)) == 5, what="unsupported")
        assert "can't read that kind of file" in texts(server, USER)[4]

        # The bot is still answering, and nothing was charged for any of it.
        server.push_update({"message": server.user_message(USER, "/balance", user_id=USER,
                                                           entities=[{"type": "bot_command",
                                                                      "offset": 0,
                                                                      "length": 8}])})  # fmt: skip
        await until(lambda: len(texts(server, USER)) == 6, what="/balance")
        assert "100" in texts(server, USER)[5]
    assert llm.requests_to("/chat/completions") == []


async def test_text_only_model_names_one_that_can_see(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer, tmp_path: Path
) -> None:
    models = tmp_path / "models.toml"
    models.write_text(
        'default_chat_model = "plain"\n'
        '[models.plain]\nkind = "chat"\ninput_credits_per_1k = 1\noutput_credits_per_1k = 1\n'
        '[models.seer]\nkind = "chat"\nvision = true\n'
        "input_credits_per_1k = 1\noutput_credits_per_1k = 1\n"
    )
    settings = settings_for(sqlite_url, llm, server, models_file=models)
    async with running_bot(settings, server, llm):
        send(server, USER, photo=server.photo(picture(64, 64, "JPEG"), 64, 64), caption="hi")
        await until(lambda: texts(server, USER), what="the refusal")
    (refusal,) = texts(server, USER)
    assert "plain can't look at pictures" in refusal and "/model seer" in refusal
    assert llm.requests_to("/chat/completions") == []


async def test_group_pictures_between_members_are_ignored(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        data = picture(64, 64, "JPEG")
        send(server, GROUP, photo=server.photo(data, 64, 64), caption="look at my cat")
        send(server, GROUP, photo=server.photo(data, 64, 64), caption="@switchboard_bot what is it?",
             caption_entities=[{"type": "mention", "offset": 0, "length": 16}])  # fmt: skip
        await until(lambda: texts(server, GROUP), what="the answer to the mention")
    (request,) = llm.requests_to("/chat/completions")
    assert request.body["messages"][-1]["content"][0]["text"] == "what is it?"
    assert len(server.calls_for("getFile")) == 1


async def test_image_sent_as_a_file_is_a_picture(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    data = picture(3000, 1000, "PNG")
    async with running_bot(settings_for(sqlite_url, llm, server, image_max_side=600), server, llm):
        send(server, USER, document=server.document(data, "chart.png", "image/png"),
             caption="Trend?")  # fmt: skip
        await until(lambda: texts(server, USER), what="the answer")
    text, image = asked(llm)
    assert text["text"] == "Trend?" and image["type"] == "image_url"
    sent = base64.b64decode(image["image_url"]["url"].split(",", 1)[1])
    with Image.open(io.BytesIO(sent)) as seen:
        assert seen.size == (600, 200)  # IMAGE_MAX_SIDE=600
