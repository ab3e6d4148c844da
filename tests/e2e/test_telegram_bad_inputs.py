"""What the bot should not answer (or only with a hint): stickers, pictures without a
question, forwarded channel posts, edited messages, service senders, a huge paste."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import UnknownUser
from core.services.requests import Caller
from core.types import IdentityKey
from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import GROUP, running_bot, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 1201
CHANNEL = {"id": -1009999, "type": "channel", "title": "News"}


def without_text(message: dict[str, object], **fields: object) -> dict[str, object]:
    del message["text"]
    message.update(fields)
    return message


async def test_bad_inputs_get_a_hint_or_nothing(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    server.limits_enabled = False
    settings = settings_for(sqlite_url, llm, server, telegram_edit_interval=0.05)
    async with running_bot(settings, server, llm) as running:
        sticker = {"file_id": "s1", "file_unique_id": "us1", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
        photo = server.photo(b"\xff\xd8 not really a JPEG", 90, 90)  # a picture, corrupt
        origin = {"type": "channel", "chat": CHANNEL, "message_id": 3, "date": 1}
        pushes = [
            {"message": without_text(server.user_message(USER, ""), sticker=sticker)},
            {"message": without_text(server.user_message(USER, ""), photo=photo)},
            {"message": server.user_message(USER, "big news!", forward_origin=origin)},
            {"edited_message": {**server.user_message(USER, "fixed typo"), "edit_date": 2}},
            {"message": server.user_message(USER, "x" * 20_000)},
        ]
        for update in pushes:
            server.push_update(update)
            count = len(texts(server, USER)) + 1
            await until(lambda n=count: len(texts(server, USER)) >= n, what=str(update)[:60])
        assert texts(server, USER) == [
            "Nice sticker! Send me a question as text or a voice note.",
            "I couldn't open that picture: the file is damaged or not an image I can read. Nothing was charged.",
            "I don't answer forwarded channel posts. Copy the part you want me to look at into a message with your question.",
            "I only answer new messages: please send it again as a new message.",
            "That text is too long (20000 characters; the limit is 12000).",
        ]

        # In a group: service senders and channel posts, even addressed to the bot.
        mention = {"entities": [{"type": "mention", "offset": 0, "length": 16}]}
        for sender in (1087968824, 777000):
            server.push_update(
                {
                    "message": server.user_message(
                        GROUP, "@switchboard_bot hi", user_id=sender, **mention
                    )
                }
            )
        server.push_update(
            {"message": server.user_message(GROUP, "@switchboard_bot post", sender_chat=CHANNEL,
                                            is_automatic_forward=True, **mention)}
        )  # fmt: skip
        await asyncio.sleep(0.8)
        assert texts(server, GROUP) == []
        assert llm.requests_to("/chat/completions") == []  # nothing was paid for
        admin = Caller(IdentityKey("telegram", "", str(telegram_harness.ADMIN)))
        for sender in ("1087968824", "777000"):
            with pytest.raises(UnknownUser):
                await running.app.core.admin.find(admin, sender)
