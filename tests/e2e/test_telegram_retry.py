"""A Telegram answer cut by a dead worker: settled for what was produced (not free), one
notice in the account's language with a Retry button, and the button and /retry each
answer the interrupted question once."""

from __future__ import annotations

from bots.notices import interruption_text
from core.i18n import Translator
from core.money import MICRO
from core.ports import Interruption
from core.types import ConversationKey, Outcome
from tests.e2e import telegram_harness
from tests.e2e.dead_worker import cut_by_a_dead_worker
from tests.e2e.telegram_harness import command, running_bot, say, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.harness import caller

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 905
SLOW = " ".join(f"word{i}" for i in range(400))
RETRIED = "the answer, asked again"


async def test_a_cut_answer_is_charged_told_in_russian_and_retried_once_by_button(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply=SLOW, delay=0.01)
    settings = settings_for(sqlite_url, llm, server, telegram_drafts=False)
    async with running_bot(settings, server, llm) as bot:
        person = caller(str(USER))
        await bot.app.core.accounts.set_language(person, "ru")
        cut = await cut_by_a_dead_worker(bot.app, person, str(USER), "tell me a long story")
        account = await bot.app.core.accounts.resolve(person)
        charged = 100 * MICRO - account.balance
        assert 0 < charged < cut.reserved  # what was produced, not free, not the whole hold
        async with bot.app.uow() as tx:
            usage = await tx.usage.recent(account.id, 5)
        assert [(u.request_id, u.outcome, u.credits) for u in usage] == [
            (cut.request_id, Outcome.CUT, charged)
        ]

        notice = Interruption(
            str(USER), cut.request_id, charged, cut.reserved - charged, "ru", True
        )
        await until(lambda: interruption_text(notice) in texts(server, USER), what="the notice")
        assert "Ответ прервался" in texts(server, USER)[-1]
        sent = [m for m in server.messages.values() if m.get("text") == interruption_text(notice)]
        button = sent[0]["reply_markup"]["inline_keyboard"][0][0]
        assert button["text"].endswith(Translator("ru")("telegram.retry_button"))
        assert button["callback_data"] == f"retry:{cut.request_id}"

        llm.script(reply=RETRIED)
        for attempt in ("cb1", "cb2"):  # pressed twice: answered once
            press = {
                "id": attempt,
                "from": server.user_message(USER, "x")["from"],
                "chat_instance": "ci",
                "message": sent[0],
                "data": button["callback_data"],
            }
            server.push_update({"callback_query": press})
            await until(
                lambda a=attempt: a in [c["callback_query_id"] for c in server.callback_answers]
            )
        nothing = Translator("ru")("error.nothing_to_retry")
        await until(lambda: nothing in texts(server, USER), what="nothing left to retry")
        await until(lambda: RETRIED in texts(server, USER), what="the retried answer")
        assert texts(server, USER).count(RETRIED) == 1
        assert llm.requests_to("/chat/completions")[-1].body["messages"][-1]["content"] == (
            "tell me a long story"
        )

        # /retry now: nothing interrupted, so the retried answer is regenerated.
        llm.script(reply="a new take")
        say(server, USER, "/retry", **command("/retry"))
        await until(lambda: "a new take" in texts(server, USER), what="the regenerated answer")
        assert texts(server, USER).count(RETRIED) == 1


async def test_retry_command_asks_the_interrupted_question_again_once(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply=SLOW, delay=0.01)
    settings = settings_for(sqlite_url, llm, server, telegram_drafts=False)
    async with running_bot(settings, server, llm) as bot:
        person = caller(str(USER))
        await bot.app.core.accounts.resolve(person)
        await cut_by_a_dead_worker(bot.app, person, str(USER), "what is a lease?")
        await until(lambda: any("interrupted" in t for t in texts(server, USER)), what="notice")
        assert "Charged" in texts(server, USER)[-1]  # no language set: the bot's default

        llm.script(reply=RETRIED)
        say(server, USER, "/retry", **command("/retry"))
        await until(lambda: RETRIED in texts(server, USER), what="the retried answer")
        question = llm.requests_to("/chat/completions")[-1].body["messages"][-1]["content"]
        assert question == "what is a lease?"
        assert texts(server, USER).count(RETRIED) == 1


async def test_retry_regenerates_the_last_answer_without_it(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    settings = settings_for(sqlite_url, llm, server, telegram_drafts=False)
    async with running_bot(settings, server, llm) as bot:
        nothing = Translator(None)("error.nothing_to_retry")
        say(server, USER, "/retry", **command("/retry"))  # nothing stored yet
        await until(lambda: nothing in texts(server, USER), what="nothing to retry")
        for question in ("what is a lease?", "and a hold?"):
            say(server, USER, question)
            await until(lambda q=question: f"Echo: {q}" in texts(server, USER), what="answer")
        person = caller(str(USER))
        before = (await bot.app.core.accounts.resolve(person)).balance
        llm.script(reply="A hold, explained again.")
        say(server, USER, "/retry", **command("/retry"))
        await until(lambda: "A hold, explained again." in texts(server, USER), what="new take")
        sent = llm.requests_to("/chat/completions")[-1].body["messages"]
        assert [(m["role"], m["content"]) for m in sent[1:]] == [
            ("user", "what is a lease?"),
            ("assistant", "Echo: what is a lease?"),
            ("user", "and a hold?"),
        ]
        account = await bot.app.core.accounts.resolve(person)
        assert account.balance < before  # paid again
        async with bot.app.uow() as tx:
            window = await tx.conversations.window(
                ConversationKey("telegram", str(USER), account.id), 10
            )
        assert [m.content for m in window] == [
            "what is a lease?",
            "Echo: what is a lease?",
            "and a hold?",
            "A hold, explained again.",
        ]
