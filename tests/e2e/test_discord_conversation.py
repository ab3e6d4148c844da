"""Conversation outside slash commands: DMs, mentions and replies in channels, voice."""

from __future__ import annotations

import asyncio

from tests.e2e.discord_harness import WELCOME, discord_env, eventually


async def test_dm_conversation_keeps_context(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, dm = env.fake, env.dm_channel_id
        first = await fake.user_message(env.alice, "My name is Alice", channel_id=dm)
        await eventually(
            lambda: [m["content"] for m in fake.channel_messages(dm)] == ["Echo: My name is Alice"]
        )
        await fake.user_message(env.alice, "What is my name?", channel_id=dm)
        await eventually(
            lambda: (
                len(fake.channel_messages(dm)) == 2
                and not fake.channel_messages(dm)[1]["components"]
            )
        )
        reply = fake.channel_messages(dm)[0]
        assert reply["message_reference"]["message_id"] == first["id"]
        contents = [
            m["content"] for m in env.llm.requests_to("/chat/completions")[1].body["messages"]
        ]
        assert "My name is Alice" in contents and "Echo: My name is Alice" in contents
        # A redelivered message (same id) gets no second answer and no second charge.
        charged = WELCOME - await env.balance(env.alice)
        await fake.gateway.dispatch("MESSAGE_CREATE", first)
        await asyncio.sleep(0.5)
        assert len(fake.channel_messages(dm)) == 2
        assert len(env.llm.requests_to("/chat/completions")) == 2
        assert WELCOME - await env.balance(env.alice) == charged


async def test_channel_answers_mentions_and_replies_only(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, channel = env.fake, env.channel_id
        await fake.user_message(env.alice, "just chatting with friends", channel_id=channel)
        question = await fake.user_message(
            env.alice, "hello bot", channel_id=channel, mention_bot=True
        )
        await eventually(
            lambda: [m["content"] for m in fake.channel_messages(channel)] == ["Echo: hello bot"]
        )
        answer = fake.channel_messages(channel)[0]
        assert answer["message_reference"]["message_id"] == question["id"]
        await fake.user_message(env.alice, "and more", channel_id=channel, reply_to=answer)
        await eventually(lambda: len(fake.channel_messages(channel)) == 2)
        await eventually(lambda: fake.channel_messages(channel)[1]["content"] == "Echo: and more")
        assert len(env.llm.requests_to("/chat/completions")) == 2  # the first one was ignored
        assert all(
            c.payload["allowed_mentions"]["parse"] == [] for c in fake.calls_to("channel_create")
        )


async def test_voice_message_transcribed_then_answered(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, dm = env.fake, env.dm_channel_id
        env.llm.script(transcript="what is two plus two")
        voice = fake.store_file(
            dm, "voice-message.ogg", "audio/ogg", b"OggS" + b"\0" * 2000, duration_secs=3.0
        )
        await fake.user_message(env.alice, "", channel_id=dm, attachments=[voice])
        await eventually(
            lambda: (
                len(fake.channel_messages(dm)) == 2
                and not fake.channel_messages(dm)[1]["components"]
            )
        )
        texts = [m["content"] for m in fake.channel_messages(dm)]
        assert texts == ["Transcript: what is two plus two", "Echo: what is two plus two"]
        assert len(env.llm.requests_to("/audio/transcriptions")) == 1


async def test_non_audio_attachment_refused_nothing_charged(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, dm = env.fake, env.dm_channel_id
        doc = fake.store_file(dm, "backup.zip", "application/zip", b"PK\x03\x04")
        await fake.user_message(env.alice, "", channel_id=dm, attachments=[doc])
        await eventually(lambda: len(fake.channel_messages(dm)) == 1)
        assert fake.channel_messages(dm)[0]["content"].startswith(
            "I can't read that kind of file. I take text, voice notes and audio, pictures"
        )
        assert env.llm.requests == []
        assert await env.balance(env.alice) == WELCOME


async def test_answer_failing_before_any_text_is_a_reply_nothing_charged(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, dm = env.fake, env.dm_channel_id
        env.llm.script(fail_before_output=503)
        question = await fake.user_message(env.alice, "are you there?", channel_id=dm)
        await eventually(lambda: len(fake.channel_messages(dm)) == 1)
        await asyncio.sleep(0.3)
        [reply] = fake.channel_messages(dm)
        assert "Nothing was charged" in reply["content"] and not reply["components"]
        assert reply["message_reference"]["message_id"] == question["id"]
        assert await env.balance(env.alice) == WELCOME
