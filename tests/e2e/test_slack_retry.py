"""A Slack answer cut by a dead worker: settled for what was produced, one message in the
answer's thread (``chat.postMessage``) in the account's language, and ``/retry`` in the
channel answers the interrupted question once."""

from __future__ import annotations

from bots.slack import mapping
from bots.slack.notices import SlackInterruptionNotices
from core.i18n import Translator
from core.money import MICRO
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
        await s.poster.command("/retry", "", user=ALICE, channel=CHANNEL)
        nothing = ru("error.nothing_to_retry")
        await eventually(
            lambda: any(e["text"] == nothing for e in s.slack.ephemerals), what="the refusal"
        )
        assert sum(m.text == RETRIED for m in s.slack.bot_messages(CHANNEL)) == 1
        assert len(s.llm.requests_to("/chat/completions")) == 2
