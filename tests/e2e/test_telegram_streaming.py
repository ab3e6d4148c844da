"""Streaming rules end to end: a 9,000-character answer, injected 429s, and Stop (the
inline button under an edited message, and Telegram's own stop of a draft)."""

from __future__ import annotations

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import GROUP, running_bot, say, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 901
SLOW = " ".join(f"word{i}" for i in range(400))


async def test_long_answer_three_messages_code_intact(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    paragraph = "Word " * 99 + "end."
    code = "```python\n" + "\n".join(f"value_{i} = {i} * 2" for i in range(100)) + "\n```"
    answer = "\n\n".join([paragraph] * 5 + [code] + [paragraph] * 9)
    assert 8500 < len(answer) < 9500
    llm.script(reply=answer, chunk_chars=300, delay=0.02)
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, USER, "write a lot")
        await until(lambda: len(texts(server, USER)) == 3, within=20, what="three messages")
    sent = texts(server, USER)
    assert all(len(t) <= 4096 for t in sent)
    squeeze = "".join(sent).replace("\n", "").replace(" ", "")
    plain = answer.replace("```python", "").replace("```", "")
    assert squeeze == plain.replace("\n", "").replace(" ", "")  # nothing lost
    holders = [m for m in server.messages.values() if "value_0 = 0" in m.get("text", "")]
    assert len(holders) == 1 and "value_99 = 99 * 2" in holders[0]["text"]
    assert [e["language"] for e in holders[0]["entities"] if e["type"] == "pre"] == ["python"]
    assert server.too_many_requests == 0


async def test_injected_429_waited_out_and_final_delivered(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply=SLOW[:1200], delay=0.01)
    server.inject(method="editMessageText", chat_id=GROUP, retry_after=2)
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, GROUP, "/ask go", user_id=USER, **telegram_harness.command("/ask"))
        await until(
            lambda: (
                texts(server, GROUP) == [SLOW[:1200]]
                and not server.messages[(GROUP, 2)].get("reply_markup")
            ),
            within=15,
            what="the final",
        )
    calls = server.calls_for(chat_id=GROUP)
    refused = [c for c in calls if c.status == 429]
    assert len(refused) == 1
    after = [c for c in calls if c.time > refused[0].time]
    assert after and after[0].time - refused[0].time >= 2.0  # nothing before retry_after ended


async def test_stop_button_keeps_what_was_produced(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply=SLOW, delay=0.03)
    settings = settings_for(sqlite_url, llm, server, telegram_drafts=False)
    async with running_bot(settings, server, llm):
        question = say(server, USER, "talk for a long time")
        await until(lambda: (USER, 2) in server.messages, what="the first visible text")
        shown = server.messages[(USER, 2)]
        data = shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert (
            data.startswith("stop:")
            and shown["reply_to_message"]["message_id"] == question["message_id"]
        )
        callback = {
            "id": "cb1",
            "from": question["from"],
            "chat_instance": "ci",
            "message": shown,
            "data": data,
        }
        server.push_update({"callback_query": callback})
        await until(
            lambda: texts(server, USER)[0].endswith("(stopped)"), within=10, what="the stop"
        )
        await until(lambda: "reply_markup" not in server.messages[(USER, 2)], what="no button")
    final = texts(server, USER)[0]
    produced = final.removesuffix("\n\n(stopped)")
    assert produced and SLOW.startswith(produced) and len(produced) < len(SLOW)
    assert server.callback_answers and server.callback_answers[0]["callback_query_id"] == "cb1"


async def test_draft_stopped_by_telegram_stop_control(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply=SLOW, delay=0.03)
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, USER, "talk for a long time")
        await until(lambda: server.calls_for("sendMessageDraft", USER), what="a draft")
        draft = server.calls_for("sendMessageDraft", USER)[0]
        assert draft.params.get("can_stop") in (True, "true", "True")
        event = {"chat": server.chat(USER), "draft_id": int(draft.params["draft_id"])}
        server.push_update({"stopped_message_generation": event})
        await until(lambda: texts(server, USER), within=10, what="the final message")
    assert texts(server, USER)[0].endswith("(stopped)")
    assert len(texts(server, USER)[0]) < len(SLOW)


async def test_typing_from_question_until_the_first_text(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    """The "typing…" action covers admission and the wait for the first token, then stops:
    the answer streams for longer than aiogram's 5 s action interval without another."""
    answer = " ".join(f"slow{i}" for i in range(18))
    llm.script(reply=answer, delay=0.35)
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, USER, "take your time")
        await until(lambda: texts(server, USER) == [answer], within=15, what="the final")
    actions = server.calls_for("sendChatAction", USER)
    drafts = server.calls_for("sendMessageDraft", USER)
    assert [a.params["action"] for a in actions] == ["typing"]
    assert drafts and actions[0].time < drafts[0].time
    assert drafts[-1].time - drafts[0].time > 5.0  # long enough for a second action
