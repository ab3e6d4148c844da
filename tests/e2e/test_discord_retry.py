"""A Discord answer cut by a dead worker: settled for what was produced, one message in the
channel in the account's language (through the bot's REST client), and ``/retry``
answers the interrupted question once."""

from __future__ import annotations

from core.i18n import Translator
from core.types import Outcome
from tests.e2e.dead_worker import cut_by_a_dead_worker
from tests.e2e.discord_harness import WELCOME, discord_env, eventually

SLOW = " ".join(f"word{i}" for i in range(400))
RETRIED = "the answer, asked again"


async def test_a_cut_answer_is_told_in_the_channel_and_retried_once(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        env.llm.script(reply=SLOW, delay=0.01)
        person = env.caller(env.alice)
        await env.app.core.accounts.set_language(person, "ru")
        cut = await cut_by_a_dead_worker(
            env.app, person, str(env.channel_id), "tell me a long story"
        )
        charged = WELCOME - await env.balance(env.alice)
        assert 0 < charged < cut.reserved

        ru = Translator("ru")
        await eventually(lambda: bool(env.fake.channel_messages(env.channel_id)), what="notice")
        [notice] = env.fake.channel_messages(env.channel_id)
        assert notice["content"].startswith("Ответ прервался")
        assert ru("error.interrupted_retry") in notice["content"]

        env.llm.script(reply=RETRIED)
        first = await env.slash("retry")
        await eventually(lambda: env.settled(first) and env.text(first) == [RETRIED])
        question = env.llm.requests_to("/chat/completions")[-1].body["messages"][-1]
        assert question["content"] == "tell me a long story"
        # Nothing interrupted any more: a second /retry regenerates that answer, without it.
        env.llm.script(reply="a new take")
        second = await env.slash("retry")
        await eventually(lambda: env.settled(second) and env.text(second) == ["a new take"])
        sent = [m["content"] for m in env.llm.requests_to("/chat/completions")[-1].body["messages"]]
        assert sent[-1] == "tell me a long story" and RETRIED not in sent
        assert len(env.llm.requests_to("/chat/completions")) == 3
        account = await env.app.core.accounts.resolve(person)
        async with env.app.uow() as tx:
            outcomes = [u.outcome for u in await tx.usage.recent(account.id, 5)]
        assert sorted(outcomes) == sorted([Outcome.CUT, Outcome.OK, Outcome.OK])
