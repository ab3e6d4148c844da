"""Slack's ``/retry`` (real bolt, fake Slack): an answer cut by a dead worker is told in
its thread in the account's language and asked again once; with nothing interrupted, the
person's newest exchange in the channel (in whichever thread) is regenerated, in a new
thread, and the new answer replaces the first in that exchange's context."""

from __future__ import annotations

import asyncio

from bots.slack import mapping
from bots.slack.notices import SlackInterruptionNotices
from core.i18n import Translator
from core.money import MICRO
from core.types import ConversationKey
from tests.e2e.dead_worker import cut_by_a_dead_worker
from tests.e2e.slack_harness import ALICE, CHANNEL, TEAM, eventually, slack_stack

SLOW = " ".join(f"word{i}" for i in range(400))
RETRIED = "the answer, asked again"


async def test_a_cut_answer_is_told_in_its_thread_and_retried_once(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        # What bots.slack.runner registers (the stack builds bolt without the runner).
        s.app.notices["slack"] = SlackInterruptionNotices(s.deps.client)
        s.llm.script(reply=SLOW, delay=0.01)
        person = mapping.caller(TEAM, ALICE)
        await s.app.core.accounts.set_language(person, "ru")
        question = s.slack.post_user_message(CHANNEL, ALICE, "tell me a long story")
        thread = mapping.chat_id(TEAM, CHANNEL, question.ts)
        cut = await cut_by_a_dead_worker(s.app, person, thread, "tell me a long story")
        account = await s.app.core.accounts.resolve(person)
        charged = 100 * MICRO - account.balance
        assert 0 < charged < cut.reserved

        ru = Translator("ru")
        (notice,) = await eventually(
            lambda: s.slack.bot_messages(CHANNEL, question.ts), what="the notice"
        )
        assert notice.text.startswith("Ответ прервался")
        assert ru("error.interrupted_retry") in notice.text

        s.llm.script(reply=RETRIED)
        await s.poster.command("/retry", "", user=ALICE, channel=CHANNEL)
        await eventually(
            lambda: any(m.text == RETRIED for m in s.slack.bot_messages(CHANNEL)), what="answer"
        )
        asked = s.llm.requests_to("/chat/completions")[-1].body["messages"][-1]["content"]
        assert asked == "tell me a long story"
        # Again: nothing interrupted now, so the retried answer is regenerated (once more).
        s.llm.script(reply="a new take")
        await s.poster.command("/retry", "", user=ALICE, channel=CHANNEL)
        await eventually(
            lambda: any(m.text == "a new take" for m in s.slack.bot_messages(CHANNEL)),
            what="the regenerated answer",
        )
        assert sum(m.text == RETRIED for m in s.slack.bot_messages(CHANNEL)) == 1
        assert len(s.llm.requests_to("/chat/completions")) == 3


async def test_retry_regenerates_the_newest_answer_of_the_channel(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        s.llm.script(reply="Rome.")
        older = await s.mention("what is the capital of Italy?")
        await eventually(lambda: s.slack.bot_messages(CHANNEL, older["ts"]), what="answer 1")
        s.llm.script(reply="Paris.")
        event = await s.mention("what is the capital of France?")
        thread = event["ts"]
        person = mapping.caller(TEAM, ALICE)
        account = await s.app.core.accounts.resolve(person)
        asked_in = ConversationKey("slack", mapping.chat_id(TEAM, CHANNEL, thread), account.id)

        async def context_becomes(expected: list[str]) -> None:
            """The thread's context window, polled: an exchange is stored as it settles."""
            for _ in range(1500):
                async with s.app.uow() as tx:
                    window = await tx.conversations.window(asked_in, 10)
                if [m.content for m in window] == expected:
                    return
                await asyncio.sleep(0.02)
            raise AssertionError(f"the context stayed {window}, not {expected}")

        await context_becomes(["what is the capital of France?", "Paris."])

        s.llm.script(reply="Paris, on the Seine.")
        await s.poster.command("/retry", "", user=ALICE, channel=CHANNEL)
        await eventually(
            lambda: any(m.text == "Paris, on the Seine." for m in s.slack.bot_messages(CHANNEL)),
            what="the regenerated answer",
        )
        sent = s.llm.requests_to("/chat/completions")[-1].body["messages"]
        assert sent[-1]["content"] == "what is the capital of France?"
        assert all(m["content"] != "Paris." for m in sent)  # without the first answer
        assert all("Italy" not in str(m["content"]) for m in sent)  # another thread's
        (renewed,) = [m for m in s.slack.bot_messages(CHANNEL) if m.text == "Paris, on the Seine."]
        assert renewed.thread_ts not in (None, thread)  # a new thread, under the /retry header
        # Kept in the first exchange's thread: a follow-up there sees the new answer only.
        await context_becomes(["what is the capital of France?", "Paris, on the Seine."])
