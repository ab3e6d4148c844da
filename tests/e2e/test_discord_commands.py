"""Media, account and admin slash commands, and the bad inputs: errors are ephemeral and
nothing is charged."""

from __future__ import annotations

import logging

import pytest

from core.money import MICRO
from tests.e2e.discord_harness import WELCOME, DiscordEnv, discord_env, eventually

EPHEMERAL = 64
ADMINISTRATOR = 1 << 3


def _private_reply(env: DiscordEnv, interaction: int) -> str:
    state = env.fake.interactions[interaction]
    assert state.ephemeral, "expected an ephemeral response"
    original = env.fake.original(interaction)
    assert original is not None and int(original["flags"]) & EPHEMERAL
    return str(original["content"])


async def _done(env: DiscordEnv, interaction: int) -> None:
    await eventually(lambda: env.settled(interaction) and bool(env.fake.answer(interaction)))


def _ephemeral_error(env: DiscordEnv, interaction: int) -> str:
    """A refused public request: the "thinking" response removed, an ephemeral follow-up."""
    assert env.fake.original(interaction) is None
    followups = env.fake.followups(interaction)
    assert len(followups) == 1 and int(followups[0]["flags"]) & EPHEMERAL
    return str(followups[0]["content"])


async def test_image_tts_transcribe(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        image = await env.slash("image", {"prompt": "a red fox"})
        await _done(env, image)
        original = env.fake.original(image)
        assert original is not None and original["content"] == "a red fox"
        assert [a["filename"] for a in original["attachments"]] == ["image.png"]
        speech = await env.slash("tts", {"text": "read me"})
        await _done(env, speech)
        speech_message = env.fake.original(speech)
        assert (
            speech_message is not None
            and speech_message["attachments"][0]["filename"] == "speech.ogg"
        )
        env.llm.script(transcript="hello there")
        clip = env.fake.store_file(env.channel_id, "clip.mp3", "audio/mpeg", b"ID3" + b"\0" * 4000)
        heard = await env.slash("transcribe", {"file": clip})
        await _done(env, heard)
        assert env.text(heard) == ["Transcript: hello there"]
        assert await env.balance(env.alice) < WELCOME
        assert env.fake.too_many_requests == 0


def _public(env: DiscordEnv) -> int:
    """Messages anyone in the channel can see, interaction responses included."""
    return sum(
        1
        for m in env.fake.messages.values()
        if int(m["channel_id"]) == env.channel_id and not int(m.get("flags") or 0) & EPHEMERAL
    )


@pytest.mark.parametrize("case", ["not_audio", "too_large"])
async def test_refused_attachment_never_defers(sqlite_url: str, case: str) -> None:
    """A refused /transcribe file is answered at once, ephemerally: no public "thinking"."""
    async with discord_env(sqlite_url, max_audio_mb=1) as env:
        before = await env.balance(env.alice)
        if case == "not_audio":
            file = env.fake.store_file(env.channel_id, "notes.txt", "text/plain", b"hello")
        else:
            big = b"ID3" + b"\0" * (2 * 2**20)
            file = env.fake.store_file(env.channel_id, "long.mp3", "audio/mpeg", big)
        seen = _public(env)
        interaction = await env.slash("transcribe", {"file": file})
        await eventually(lambda: env.fake.interactions[interaction].acked is not None)
        state = env.fake.interactions[interaction]
        assert state.acked == 4 and state.ephemeral  # a message, never a deferral (5)
        text = _private_reply(env, interaction)
        expected = {
            "not_audio": "I can't read that kind of file.",
            "too_large": "the limit is 1 MB",
        }[case]
        assert expected in text
        assert env.fake.followups(interaction) == []
        assert _public(env) == seen  # the channel saw nothing, not even a "thinking"
        assert await env.balance(env.alice) == before
        assert env.llm.requests_to("/audio/transcriptions") == []


@pytest.mark.parametrize("case", ["too_long", "no_credits", "upstream_down"])
async def test_bad_inputs_ephemeral_errors_nothing_charged(sqlite_url: str, case: str) -> None:
    async with discord_env(sqlite_url, max_input_chars=200) as env:
        if case == "no_credits":
            await env.balance(env.alice)  # the account exists before the admin empties it
            grant = await env.slash(
                "admin", {"grant": {"user": env.alice, "credits": "-100"}}, user=env.admin
            )
            await _done(env, grant)
        before = await env.balance(env.alice)
        if case == "upstream_down":
            env.llm.script(fail_before_output=503)
        interaction = await env.slash("ask", {"prompt": "x" * 300 if case == "too_long" else "hi"})
        await eventually(lambda: bool(env.fake.followups(interaction)))
        text = _ephemeral_error(env, interaction)
        expected = {
            "too_long": "That text is too long (300 characters; the limit is 200).",
            "no_credits": "Not enough credits",
            "upstream_down": "Nothing was charged",
        }[case]
        assert expected in text
        assert await env.balance(env.alice) == before
        if case != "upstream_down":
            assert env.llm.requests_to("/chat/completions") == []


async def test_admin_subcommands_by_a_bot_admin(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        alice = env.alice
        await env.balance(alice)  # alice has an account
        steps = [
            ({"grant": {"user": alice, "credits": "5", "reason": "thanks"}}, "balance is now 105"),
            ({"setrole": {"user": alice, "role": "admin"}}, "role is now admin"),
            ({"setrole": {"user": alice, "role": "user"}}, "role is now user"),
            ({"ban": {"user": alice}}, "is banned"),
            ({"unban": {"user": alice}}, "is unbanned"),
            ({"user": {"user": alice}}, "Balance: 105"),
            ({"stats": {}}, "Today"),
        ]
        for options, expected in steps:
            interaction = await env.slash("admin", options, user=env.admin)
            await _done(env, interaction)
            assert expected in _private_reply(env, interaction), options
        # The last one, stats, comes with the usage chart as an ephemeral attachment.
        await eventually(lambda: env.fake.followups(interaction))
        files = [a for m in env.fake.followups(interaction) for a in m.get("attachments", [])]
        assert [a["filename"] for a in files] == ["usage.png"]
        assert await env.balance(alice) == WELCOME + 5 * MICRO


async def test_admin_refused_for_a_guild_administrator(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with discord_env(sqlite_url) as env:
        mallory = env.alice
        caplog.set_level(logging.INFO, logger="bots.discord")
        for options in (
            {"grant": {"user": mallory, "credits": "1000"}},
            {"setrole": {"user": mallory, "role": "admin"}},
            {"ban": {"user": env.admin}},
            {"unban": {"user": mallory}},
            {"user": {"user": env.admin}},
            {"stats": {}},
        ):
            interaction = await env.slash("admin", options, user=mallory, permissions=ADMINISTRATOR)
            await _done(env, interaction)
            assert _private_reply(env, interaction) == "You are not allowed to do that."
        assert await env.balance(mallory) == WELCOME
        refusals = [r for r in caplog.records if "not allowed by role" in r.getMessage()]
        assert len(refusals) == 6


async def test_account_commands_and_model_autocomplete(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        balance = await env.slash("balance")
        await _done(env, balance)
        assert "Balance: 100" in _private_reply(env, balance)
        payload = env.fake.slash(
            "model",
            {"name": "4o"},
            user=env.alice,
            channel_id=env.channel_id,
            guild_id=env.guild_id,
            focused="name",
        )
        complete = await env.fake.dispatch_interaction(payload)
        await eventually(lambda: env.fake.interactions[complete].acked == 8)
        choices = env.fake.interactions[complete].choices
        assert {c["value"] for c in choices} == {"gpt-4o-mini", "gpt-4o"}
        assert all("per 1k tokens" in c["name"] for c in choices)
        chosen = await env.slash("model", {"name": "gpt-4o"})
        await _done(env, chosen)
        assert _private_reply(env, chosen) == "Model set to gpt-4o."
        history = await env.slash("history")
        await _done(env, history)
        assert _private_reply(env, history) == "No requests yet."
