"""Personas and settings as Discord slash commands (autocomplete, choices), quoted reply
chains, the cost line, /export as an ephemeral file, and a spoken answer's attachment."""

from __future__ import annotations

from tests.e2e.discord_harness import DiscordEnv, discord_env, eventually

EPHEMERAL = 64


async def _private(env: DiscordEnv, interaction: int) -> str:
    await eventually(lambda: env.settled(interaction) and bool(env.fake.answer(interaction)))
    original = env.fake.original(interaction)
    assert original is not None and int(original["flags"]) & EPHEMERAL
    return str(original["content"])


async def test_persona_autocomplete_choices_cost_and_export(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        names = {c["name"]: c for c in env.fake.commands[env.guild_id]}
        voice_mode = next(o for o in names["voice"]["options"] if o["name"] == "mode")
        assert [c["value"] for c in voice_mode["choices"]] == ["on", "off", "auto"]
        payload = env.fake.slash(
            "persona",
            {"name": "tu"},
            user=env.alice,
            channel_id=env.channel_id,
            guild_id=env.guild_id,
            focused="name",
        )
        complete = await env.fake.dispatch_interaction(payload)
        await eventually(lambda: env.fake.interactions[complete].acked == 8)
        choices = env.fake.interactions[complete].choices
        assert [c["value"] for c in choices] == ["tutor", "default"]

        chosen = await env.slash("persona", {"name": "tutor"})
        assert await _private(env, chosen) == "Persona for this chat: tutor."
        cost = await env.slash("cost", {"state": "on"})
        assert (await _private(env, cost)).endswith(": on.")
        fake, channel = env.fake, env.channel_id
        await fake.user_message(env.alice, "explain tides", channel_id=channel, mention_bot=True)
        await eventually(
            lambda: (
                bool(fake.channel_messages(channel))
                and "Cost:" in fake.channel_messages(channel)[-1]["content"]
            )
        )
        answer = fake.channel_messages(channel)[-1]["content"]
        assert answer.startswith("Echo: explain tides\n\n") and answer.endswith(" credits._")
        system = env.llm.requests_to("/chat/completions")[-1].body["messages"][0]["content"]
        assert "You are a patient tutor." in system

        summary = await env.slash("settings")
        assert "Persona: tutor" in await _private(env, summary)
        export = await env.slash("export")
        assert "as a Markdown file" in await _private(env, export)
        await eventually(lambda: bool(env.fake.followups(export)), what="the file")
        (attached,) = env.fake.followups(export)
        assert int(attached["flags"]) & EPHEMERAL
        assert attached["attachments"][0]["filename"].endswith(".md")


async def test_reply_chain_goes_upstream_up_to_quote_depth(sqlite_url: str) -> None:
    async with discord_env(sqlite_url, quote_depth=2) as env:
        fake, channel = env.fake, env.channel_id
        bob = {**env.admin, "global_name": "Bob"}
        first = await fake.user_message(bob, "Release is on the 9th.", channel_id=channel)
        second = await fake.user_message(
            bob, "Actually the 12th.", channel_id=channel, reply_to=first
        )
        third = await fake.user_message(
            bob, "Final: the 14th.", channel_id=channel, reply_to=second
        )
        await fake.user_message(
            env.alice, "which date?", channel_id=channel, mention_bot=True, reply_to=third
        )
        await eventually(lambda: bool(fake.channel_messages(channel)))
        asked = env.llm.requests_to("/chat/completions")[-1].body["messages"][-1]["content"]
        assert asked == (
            "[Bob wrote:]\n> Actually the 12th.\n\n[Bob wrote:]\n> Final: the 14th.\n\nwhich date?"
        )


async def test_voice_auto_answers_a_voice_message_with_audio(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, dm = env.fake, env.dm_channel_id
        chosen = await env.slash("voice", {"mode": "auto"}, dm=True)
        assert (await _private(env, chosen)).startswith("Voice replies: auto")
        env.llm.script(transcript="what is two plus two")
        voice = fake.store_file(
            dm, "voice-message.ogg", "audio/ogg", b"OggS" + b"\0" * 2000, duration_secs=3.0
        )
        await fake.user_message(env.alice, "", channel_id=dm, attachments=[voice])
        await eventually(
            lambda: any(m["attachments"] for m in fake.channel_messages(dm)), what="the audio"
        )
        posted = fake.channel_messages(dm)
        assert [m["content"] for m in posted[:2]] == [
            "Transcript: what is two plus two",
            "Echo: what is two plus two",
        ]
        assert posted[-1]["attachments"][0]["filename"].endswith(".ogg")
        (speech,) = env.llm.requests_to("/audio/speech")
        assert speech.body["input"] == "Echo: what is two plus two"
        # A typed question gets text only.
        await fake.user_message(env.alice, "typed", channel_id=dm)
        await eventually(
            lambda: (
                len(fake.channel_messages(dm)) == 4
                and not fake.channel_messages(dm)[3]["components"]
            ),
            what="the typed answer, finished",
        )
        assert len(env.llm.requests_to("/audio/speech")) == 1
