"""Groups: answered on a mention, a reply to the bot or /ask; other chatter is not read;
each member has their own context; a forum topic is answered in its topic."""

from __future__ import annotations

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import (
    BOT_ID,
    GROUP,
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

ALICE, BOB = 601, 602


def mention(text: str) -> dict[str, object]:
    return {"entities": [{"type": "mention", "offset": 0, "length": len("@switchboard_bot")}]}


async def test_group_mention_reply_ask_and_chatter(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, GROUP, "hello everyone, lunch?", user_id=ALICE)
        say(server, GROUP, "@switchboard_bot what is a haiku", user_id=ALICE, **mention(""))
        await until(lambda: len(texts(server, GROUP)) == 1, what="the mention's answer")
        assert texts(server, GROUP) == ["Echo: what is a haiku"]
        first = server.calls_for("sendMessage", GROUP)[0]
        assert first.params["reply_parameters"]["message_id"] == 2  # replies to the question

        bot_message = server.messages[(GROUP, 3)]
        assert bot_message["from"]["id"] == BOT_ID
        say(server, GROUP, "and a limerick?", user_id=ALICE, reply_to_message=bot_message)
        await until(lambda: len(texts(server, GROUP)) == 2, what="the reply's answer")
        say(server, GROUP, "/ask tell me a joke", user_id=BOB, **command("/ask"))
        await until(lambda: len(texts(server, GROUP)) == 3, what="/ask")
        say(server, GROUP, "ha, nice bot", user_id=BOB)
        say(
            server,
            GROUP,
            "a reply to Alice",
            user_id=BOB,
            reply_to_message=server.messages[(GROUP, 1)],
        )
        say(
            server,
            GROUP,
            "/ask@switchboard_bot another",
            user_id=BOB,
            **command("/ask@switchboard_bot"),
        )
        await until(lambda: len(texts(server, GROUP)) == 4, what="/ask@bot")

    assert texts(server, GROUP) == [
        "Echo: what is a haiku",
        "Echo: and a limerick?",
        "Echo: tell me a joke",
        "Echo: another",
    ]
    chats = llm.requests_to("/chat/completions")
    assert len(chats) == 4  # the chatter was never sent upstream
    # Alice's second question carries her first exchange; Bob's context is his own.
    alice_second = [m["content"] for m in chats[1].body["messages"][1:]]
    assert alice_second == ["what is a haiku", "Echo: what is a haiku", "and a limerick?"]
    bob_first = [m["content"] for m in chats[2].body["messages"][1:]]
    assert bob_first == ["tell me a joke"]
    assert server.too_many_requests == 0


async def test_forum_topic_answered_in_its_topic(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    server.set_chat(GROUP, "supergroup", title="Forum", is_forum=True)
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        fields = {"message_thread_id": 7, "is_topic_message": True}
        say(server, GROUP, "/ask in topic seven", user_id=ALICE, **command("/ask"), **fields)
        await until(lambda: texts(server, GROUP), what="the topic answer")
        fields = {"message_thread_id": 9, "is_topic_message": True}
        say(server, GROUP, "/ask in topic nine", user_id=ALICE, **command("/ask"), **fields)
        await until(lambda: len(texts(server, GROUP)) == 2, what="the second topic answer")
    sent = server.calls_for("sendMessage", GROUP)
    assert [c.params["message_thread_id"] for c in sent] == ["7", "9"]
    # Each topic is a conversation of its own: no context carried across.
    second = llm.requests_to("/chat/completions")[1].body["messages"]
    assert [m["content"] for m in second[1:]] == ["in topic nine"]
