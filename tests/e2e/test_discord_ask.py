"""/ask end to end: the real discord.py client, the fake Discord, the fake LLM, SQLite."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.e2e.discord_harness import WELCOME, discord_env, eventually
from tests.fakes import discord_shapes as shapes

ANSWER = " ".join(f"Sentence number {i} of a streamed answer." for i in range(40))


async def test_ask_streams_by_editing_and_final_is_exact(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        env.llm.script(reply=ANSWER, chunk_chars=25, delay=0.03)
        interaction = await env.slash("ask", {"prompt": "tell me"})
        await eventually(lambda: env.settled(interaction) and env.text(interaction) == [ANSWER])
        fake = env.fake
        calls = fake.calls_to("callback", interaction) + fake.calls_to("edit_original", interaction)
        assert calls[0].route == "callback" and calls[0].payload["type"] == 5
        state = fake.interactions[interaction]
        assert state.acked_at is not None and state.acked_at - state.created < 0.5
        edits = fake.calls_to("edit_original", interaction)
        assert len(edits) >= 2
        stop = edits[0].payload["components"][0]["components"][0]
        assert stop["custom_id"] == f"stop:{stop['custom_id'][5:37]}:{env.alice['id']}"
        assert re.fullmatch(r"stop:[0-9a-f]{32}:[0-9]+", stop["custom_id"])
        assert edits[-1].payload["content"] == ANSWER and edits[-1].payload["components"] == []
        gaps = [b.time - a.time for a, b in zip(edits, edits[1:], strict=False)]
        assert all(gap >= 0.9 for gap in gaps), gaps
        assert fake.too_many_requests == 0
        assert 0 < await env.balance(env.alice) < WELCOME


def _long_answer() -> str:
    words = " ".join(f"word{i}" for i in range(300))  # about 2,400 characters
    code = "```python\n" + "\n".join(f"print({i})  # a line of code" for i in range(12)) + "\n```"
    return f"{words[:1700]}\n\n{code}\n\n{words}\n\n{words[:900]}"


async def test_long_answer_continues_in_followups_code_block_intact(sqlite_url: str) -> None:
    answer = _long_answer()
    assert len(answer) > 5000
    async with discord_env(sqlite_url) as env:
        env.llm.script(reply=answer, chunk_chars=200, delay=0.01)
        interaction = await env.slash("ask", {"prompt": "long please"})
        await eventually(
            lambda: env.settled(interaction) and len(env.fake.followups(interaction)) >= 2
        )
        await asyncio.sleep(0.3)
        texts = env.text(interaction)
        assert len(texts) >= 3 and all(len(t) <= 2000 for t in texts)
        assert all(t.count("```") % 2 == 0 for t in texts)
        code = answer[answer.index("```") : answer.rindex("```") + 3]
        assert any(code in t for t in texts)  # the block was not cut
        assert re.sub(r"\s+", "", "".join(texts)) == re.sub(r"\s+", "", answer)
        assert env.fake.too_many_requests == 0


@pytest.mark.parametrize("presser", ["asker", "admin"])
async def test_stop_button_stops_the_stream(sqlite_url: str, presser: str) -> None:
    async with discord_env(sqlite_url) as env:
        env.llm.script(reply=ANSWER * 3, chunk_chars=10, delay=0.05)
        interaction = await env.slash("ask", {"prompt": "go on"})
        await eventually(lambda: len(env.fake.calls_to("edit_original", interaction)) >= 1)
        original = env.fake.original(interaction)
        assert original is not None
        custom_id = original["components"][0]["components"][0]["custom_id"]
        # Someone else's press is refused to them alone, and the answer goes on.
        bob = shapes.user(shapes.snowflake(), "bob")
        refused = await env.fake.dispatch_interaction(
            env.fake.click(int(original["id"]), custom_id, user=bob)
        )
        await eventually(lambda: env.fake.interactions[refused].acked is not None)
        state = env.fake.interactions[refused]
        assert state.acked == 4 and state.ephemeral
        refusal = env.fake.original(refused)
        assert refusal is not None and "Only the person who asked" in refusal["content"]
        assert not env.settled(interaction)
        user = env.alice if presser == "asker" else env.admin
        click = env.fake.click(int(original["id"]), custom_id, user=user)
        clicked = await env.fake.dispatch_interaction(click)
        await eventually(lambda: env.fake.interactions[clicked].acked == 6, what="stop ack")
        # The note closes the final text (bots.streaming.answer, the same on every platform).
        await eventually(
            lambda: (
                env.settled(interaction)
                and env.text(interaction)[-1:] != []
                and env.text(interaction)[-1].endswith("\n\n(stopped)")
            )
        )
        texts = env.text(interaction)
        said = re.sub(r"\s+", "", "".join(texts).removesuffix("(stopped)"))
        whole = re.sub(r"\s+", "", ANSWER * 3)
        assert 0 < len(said) < len(whole) and whole.startswith(said)
        assert await env.llm.wait_for_disconnects(1)


async def test_duplicate_interaction_one_answer_one_charge(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        env.llm.script(reply="Just once.", delay=0.05)
        payload = env.fake.slash(
            "ask",
            {"prompt": "hi"},
            user=env.alice,
            channel_id=env.channel_id,
            guild_id=env.guild_id,
        )
        interaction = await env.fake.dispatch_interaction(payload)
        await env.fake.dispatch_interaction(payload)  # redelivered (reconnect, second process)
        await eventually(
            lambda: env.settled(interaction) and env.text(interaction) == ["Just once."]
        )
        await asyncio.sleep(0.5)
        callbacks = env.fake.calls_to("callback", interaction)
        assert [c.status for c in callbacks] == [200, 400]  # the second ack is refused (40060)
        assert len(env.llm.requests_to("/chat/completions")) == 1
        assert env.text(interaction) == ["Just once."]
        assert env.fake.followups(interaction) == []
        ledger_charged = WELCOME - await env.balance(env.alice)
        assert ledger_charged > 0


async def test_429_from_the_edit_route_is_waited_out(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        env.llm.script(reply=ANSWER, chunk_chars=25, delay=0.03)
        env.fake.inject("edit_original", retry_after=1.5, count=1)
        interaction = await env.slash("ask", {"prompt": "tell me"})
        await eventually(lambda: env.settled(interaction) and env.text(interaction) == [ANSWER])
        edits = env.fake.calls_to("edit_original", interaction)
        assert edits[0].status == 429 and edits[0].body["retry_after"] == 1.5
        assert edits[0].body["global"] is False
        assert edits[1].time - edits[0].time >= 1.5
        assert env.fake.too_many_requests == 1


async def test_expired_token_falls_back_to_channel_messages(sqlite_url: str) -> None:
    async with discord_env(sqlite_url, token_ttl_s=1.2) as env:
        env.llm.script(reply=ANSWER, chunk_chars=10, delay=0.04)  # about 3.5 s
        interaction = await env.slash("ask", {"prompt": "slow"})
        await eventually(
            lambda: (
                any(not m["components"] for m in env.fake.channel_messages(env.channel_id))
                and env.fake.channel_messages(env.channel_id)[-1]["content"] == ANSWER
            ),
            within=15,
        )
        refused = [c for c in env.fake.calls_to("edit_original", interaction) if c.status == 401]
        assert refused and refused[0].body["code"] == 50027
        posted = env.fake.channel_messages(env.channel_id)
        assert posted[-1]["content"] == ANSWER and posted[-1]["components"] == []
        original = env.fake.original(interaction)
        assert original is not None and ANSWER.startswith(original["content"])


async def test_dm_slash_command_has_no_guild(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        env.llm.script(reply="In a DM.")
        interaction = await env.slash("ask", {"prompt": "hi"}, dm=True)
        await eventually(lambda: env.settled(interaction) and env.text(interaction) == ["In a DM."])
        original = env.fake.original(interaction)
        assert original is not None and "guild_id" not in original
        assert int(original["channel_id"]) == env.dm_channel_id
