"""A group question that replies to a picture (issue 14 item 5): the real aiogram bot
downloads the replied-to photo from the fake Bot API and the fake LLM receives it as an
image part after the quote; only the question's own words are stored."""

from __future__ import annotations

import base64
from typing import Any

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import GROUP, running_bot, say, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.harness import caller
from tests.sample_files import picture

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

ALICE, BOB = 611, 612
ASKED = "@switchboard_bot what is in this picture?"
MENTION = {"entities": [{"type": "mention", "offset": 0, "length": len("@switchboard_bot")}]}


def photo_message(server: FakeTelegramServer, data: bytes, **fields: Any) -> dict[str, Any]:
    message = server.user_message(GROUP, "", user_id=ALICE, photo=server.photo(data, 800, 600),
                                  **fields)  # fmt: skip
    del message["text"]
    server.push_update({"message": message})
    return message


async def test_a_reply_to_a_photo_sends_the_photo_with_the_question(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    data = picture(800, 600, "JPEG")
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm) as bot:
        shared = photo_message(server, data)  # shared between members: not a question
        say(server, GROUP, ASKED, user_id=BOB, reply_to_message=shared, **MENTION)
        await until(lambda: texts(server, GROUP), what="the answer")
        (request,) = llm.requests_to("/chat/completions")
        text, image = request.body["messages"][-1]["content"]
        assert text == {
            "type": "text",
            "text": "[User wrote:]\n> [picture]\n\nwhat is in this picture?",
        }
        sent = base64.b64decode(image["image_url"]["url"].split(",", 1)[1])
        assert sent.startswith(b"\xff\xd8")  # the photo itself, as a JPEG
        (get_file,) = server.calls_for("getFile")
        assert get_file.params["file_id"] == shared["photo"][-1]["file_id"]
        account = await bot.app.core.accounts.resolve(caller(str(BOB)))
        history = await bot.app.core.conversations.history(caller(str(BOB)))
        assert [h.question for h in history] == ["what is in this picture?"]
        assert account.balance < 100 * 10**6


async def test_a_reply_to_a_captioned_photo_sends_the_caption_and_the_photo(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        shared = photo_message(server, picture(800, 600, "JPEG"), caption="our new office")
        say(server, GROUP, ASKED, user_id=BOB, reply_to_message=shared, **MENTION)
        await until(lambda: texts(server, GROUP), what="the answer")
        text, image = llm.requests_to("/chat/completions")[-1].body["messages"][-1]["content"]
        assert text["text"].startswith("[User wrote:]\n> our new office\n\n")
        assert image["type"] == "image_url"
