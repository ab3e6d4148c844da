"""A private chat end to end: streamed drafts, the exact final text, a context of three."""

from __future__ import annotations

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import running_bot, say, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 501


async def test_private_conversation_streams_and_keeps_context(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    answer = " ".join(f"Part {i} of a streamed answer with **bold** words." for i in range(12))
    llm.script(reply=answer, delay=0.015)
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, USER, "first question")
        await until(lambda: len(texts(server, USER)) == 1, what="the first answer")
        drafts = server.calls_for("sendMessageDraft", USER)
        assert len(drafts) >= 2, "the answer streams through drafts"
        assert texts(server, USER)[0] == answer.replace("**", "")
        bold = [e for e in server.messages[(USER, 2)]["entities"] if e["type"] == "bold"]
        assert len(bold) == 12  # the final is formatted
        llm.script(reply="Short one.")
        for question in ("second question", "third question", "fourth question"):
            say(server, USER, question)
            count = len(texts(server, USER)) + 1
            await until(lambda n=count: len(texts(server, USER)) == n, what=question)
        last = llm.requests_to("/chat/completions")[-1].body["messages"]
        roles = [m["role"] for m in last]
        # system, three messages of context, the question
        assert roles == ["system", "assistant", "user", "assistant", "user"]
        assert last[-1]["content"] == "fourth question" and last[2]["content"] == "third question"
        assert server.too_many_requests == 0
        actions = server.calls_for("sendChatAction", USER)
        assert actions and actions[0].params["action"] == "typing"
