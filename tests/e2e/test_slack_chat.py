"""Slack end to end: mentions, threads, DMs, both streaming modes, long answers."""

from __future__ import annotations

import pytest

from tests.e2e.slack_harness import ALICE, BOB, CHANNEL, DM, TEAM, eventually, settle, slack_stack

LONG = " ".join(f"Sentence {i} of a very long answer." for i in range(600))  # ~20k chars


async def test_mention_answered_in_thread_then_follow_up_without_mention(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        s.llm.script(reply="Paris is the capital of France.", delay=0.01)
        event = await s.mention("what is the capital of France?")
        thread = event["ts"]
        done = await eventually(lambda: _final(s, CHANNEL, thread), what="first answer")
        assert done[-1].text == "Paris is the capital of France."
        assert all(m.thread_ts == thread for m in s.slack.bot_messages(CHANNEL))
        assert "capital of France?" in s.llm.requests[-1].body["messages"][-1]["content"]
        assert "<@" not in s.llm.requests[-1].body["messages"][-1]["content"]

        s.llm.script(reply="About two million people.", delay=0.01)
        follow = s.message_event("and its population?", channel=CHANNEL, thread_ts=thread)
        assert (await s.poster.event(follow)).status == 200
        await eventually(lambda: len(_final(s, CHANNEL, thread)) == 2, what="follow-up")
        messages = s.llm.requests[-1].body["messages"]
        assert any("capital of France" in str(m["content"]) for m in messages)  # same context

        # Someone else's thread the bot never joined: no answer.
        other = s.slack.post_user_message(CHANNEL, BOB, "a human thread")
        reply = s.message_event("anyone?", user=BOB, channel=CHANNEL, thread_ts=other.ts)
        calls = len(s.llm.requests)
        await s.poster.event(reply)
        await settle()
        assert len(s.llm.requests) == calls
        assert not s.slack.bot_messages(CHANNEL, other.ts)


async def test_dm_conversation_and_per_person_context(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        await s.poster.event(s.message_event("my name is Alice", channel=DM))
        await eventually(lambda: _final(s, DM), what="first DM answer")
        await s.poster.event(s.message_event("what is my name?", channel=DM))
        await eventually(lambda: len(_final(s, DM)) == 2, what="second DM answer")
        history = s.llm.requests[-1].body["messages"]
        assert any("my name is Alice" in str(m["content"]) for m in history)
        assert _final(s, DM)[-1].text == "Echo: what is my name?"
        # Bob in his own DM starts from nothing.
        await s.poster.event(s.message_event("hello", user=BOB, channel="D0BOB"))
        await eventually(lambda: _final(s, "D0BOB"), what="Bob's answer")
        assert not any("Alice" in str(m["content"]) for m in s.llm.requests[-1].body["messages"])


async def test_native_streaming_appends_only_new_text(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        text = " ".join(f"word{i}" for i in range(120))
        s.llm.script(reply=text, delay=0.01)
        event = await s.mention("stream please")
        await eventually(lambda: s.slack.calls_to("chat.stopStream"), what="stopStream")
        starts = s.slack.calls_to("chat.startStream")
        appends = s.slack.calls_to("chat.appendStream")
        assert len(starts) == 1 and appends, "streamed in several calls"
        assert starts[0].args["thread_ts"] == event["ts"]
        assert starts[0].args["recipient_user_id"] == ALICE
        assert starts[0].args["recipient_team_id"] == TEAM
        sent = starts[0].args["markdown_text"] + "".join(a.args["markdown_text"] for a in appends)
        assert sent == text  # each call carried only the new part
        (message,) = s.slack.bot_messages(CHANNEL, event["ts"])
        assert message.text == text and not message.streaming
        assert not s.slack.calls_to("chat.update")
        (stop,) = s.slack.ephemerals  # the Stop button, privately, to the asker
        assert stop["user"] == ALICE
        assert stop["blocks"][0]["elements"][0]["value"].startswith("stop:")


@pytest.mark.parametrize("how", ["setting", "scope refused"])
async def test_chat_update_fallback_formats_the_final(sqlite_url: str, how: str) -> None:
    fake = {"streaming_scope": how != "scope refused"}
    native = how != "setting"
    async with slack_stack(sqlite_url, fake=fake, slack_native_streaming=native) as s:
        reply = "**Bold** and `code` & <tags>\n\n" + " ".join(f"w{i}" for i in range(80))
        s.llm.script(reply=reply, delay=0.01)
        event = await s.mention("format please")
        final = await eventually(lambda: _final(s, CHANNEL, event["ts"]), what="final")
        (message,) = final
        assert message.text.startswith("*Bold* and `code` &amp; &lt;tags&gt;")
        assert message.blocks == []  # the Stop button is gone
        updates = s.slack.calls_to("chat.update")
        assert len(updates) >= 2
        interim = [u for u in updates if u.args.get("blocks") not in ("[]", [], None)]
        assert interim, "interim edits carried the Stop button"
        assert not s.slack.ephemerals
        if not native:
            assert not s.slack.calls_to("chat.startStream")
        else:
            assert s.slack.calls_to("chat.startStream")[0].error == "missing_scope"
            assert not s.deps.native  # remembered: the next answer edits straight away


@pytest.mark.parametrize("native", [True, False])
async def test_15000_char_answer_arrives_whole(sqlite_url: str, native: bool) -> None:
    async with slack_stack(sqlite_url, slack_native_streaming=native) as s:
        answer = LONG[:15_000]
        s.llm.script(reply=answer, chunk_chars=500, delay=0.005)
        event = await s.mention("a long one")
        expected = " ".join(answer.split())
        await eventually(
            lambda: " ".join(_joined(s, event["ts"]).split()) == expected, what="whole answer"
        )
        await settle(0.3)
        assert len(s.slack.bot_messages(CHANNEL, event["ts"])) >= 2
        for call in s.slack.calls:
            assert len(str(call.args.get("markdown_text") or "")) <= 12_000
            assert call.error is None or call.error == "missing_scope"


async def test_msg_too_long_continues_in_new_messages(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url, fake={"max_text": 4_000}, slack_native_streaming=False) as s:
        answer = LONG[:15_000]
        s.llm.script(reply=answer, chunk_chars=3000, delay=0.01)
        event = await s.mention("too long for this workspace")
        expected = " ".join(answer.split())
        await eventually(
            lambda: " ".join(_joined(s, event["ts"]).split()) == expected, what="whole answer"
        )
        assert any(c.error == "msg_too_long" for c in s.slack.calls)
        assert len(s.slack.bot_messages(CHANNEL, event["ts"])) >= 4


async def test_stream_expiring_mid_answer_continues(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url, fake={"stream_ttl_s": 0.4}) as s:
        answer = " ".join(f"part{i}" for i in range(200))
        s.llm.script(reply=answer, delay=0.01)
        event = await s.mention("slow answer")
        await eventually(lambda: _joined(s, event["ts"]).split() == answer.split(), what="all")
        assert any(c.error == "message_not_in_streaming_state" for c in s.slack.calls)
        assert len(s.slack.bot_messages(CHANNEL, event["ts"])) >= 2
        assert len(s.slack.calls_to("chat.startStream")) >= 2


async def test_retried_event_answered_once_and_charged_once(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        event = s.message_event("only once", channel=DM)
        first = await s.poster.event(event, event_id="EvRETRY1")
        await eventually(lambda: _final(s, DM), what="answer")
        balance = await _balance(s, ALICE)
        retry = await s.poster.event(event, event_id="EvRETRY1", retry_num=1)
        assert first.status == retry.status == 200
        await settle(0.5)
        assert len(_final(s, DM)) == 1
        assert len(s.llm.requests) == 1
        assert await _balance(s, ALICE) == balance
        # A retry of an event never seen before is a first delivery: answered.
        await s.poster.event(s.message_event("new one", channel=DM), event_id="EvNEW", retry_num=2)
        await eventually(lambda: len(_final(s, DM)) == 2, what="unseen retry answered")


async def test_own_and_other_bots_messages_ignored(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        own = s.message_event("I am the bot", user=s.slack.bot_user_id, channel=DM)
        own["bot_id"] = s.slack.bot_id
        other = s.message_event("another bot", user="UOTHERBOT", channel=DM)
        other["bot_id"], other["subtype"] = "BOTHER", "bot_message"
        edited = s.message_event("edited", channel=DM)
        edited["subtype"] = "message_changed"
        for event in (own, other, edited):
            assert (await s.poster.event(event)).status == 200
        await settle(0.5)
        assert not s.llm.requests
        assert not [c for c in s.slack.calls if c.method.startswith(("chat.", "files."))]


def _final(s, channel: str, thread: str | None = None) -> list:  # type: ignore[no-untyped-def]
    """The bot's answers in ``channel`` that are finished (not streaming, no Stop)."""
    return [
        m
        for m in s.slack.bot_messages(channel, thread)
        if not m.streaming and not m.blocks and m.text and not m.text.startswith("<@")
    ]


def _joined(s, thread: str) -> str:  # type: ignore[no-untyped-def]
    messages = s.slack.bot_messages(CHANNEL, thread)
    if any(m.streaming or m.blocks for m in messages):
        return ""
    return " ".join(m.text for m in messages)


async def _balance(s, user: str) -> int:  # type: ignore[no-untyped-def]
    account = await s.app.core.conversations.balance(await s.deps.caller(TEAM, user))
    return account.balance
