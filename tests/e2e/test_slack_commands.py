"""Slack end to end: slash commands, media, audio, admin rights, Stop, request security."""

from __future__ import annotations

import json

from core.money import MICRO
from tests.e2e.slack_harness import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    DM,
    TEAM,
    eventually,
    settle,
    slack_stack,
)


async def _balance(s, user: str) -> int:  # type: ignore[no-untyped-def]
    return (await s.app.core.conversations.balance(await s.deps.caller(TEAM, user))).balance


async def test_ask_acks_before_the_model_answers_and_opens_a_thread(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        s.llm.script(reply="slow but sure", delay=0.5)
        answer = await s.poster.command("/ask", "hello there", user=ALICE, channel=CHANNEL)
        assert answer.status == 200 and answer.elapsed_s < 1.0
        assert not s.llm.requests or not s.slack.calls_to("chat.stopStream")
        header = await eventually(lambda: s.slack.bot_messages(CHANNEL), what="question shown")
        assert header[0].text == f"<@{ALICE}>: hello there"
        await eventually(lambda: s.slack.calls_to("chat.stopStream"), what="answer")
        (reply,) = s.slack.bot_messages(CHANNEL, header[0].ts)
        assert reply.text == "slow but sure"
        # The /ask thread is the bot's: a follow-up there needs no mention.
        follow = s.message_event("more?", channel=CHANNEL, thread_ts=header[0].ts)
        await s.poster.event(follow)
        await eventually(lambda: len(s.slack.bot_messages(CHANNEL, header[0].ts)) == 2)


async def test_balance_is_ephemeral_and_reset_public(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        answer = await s.poster.command("/balance", "", user=ALICE, channel=CHANNEL)
        assert answer.status == 200
        (reply,) = await eventually(lambda: s.slack.responses, what="balance reply")
        assert reply["response_type"] == "ephemeral"
        assert "100" in reply["text"] and "Balance" in reply["text"]
        await s.poster.command("/reset", "", user=ALICE, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 2)
        assert s.slack.responses[1]["response_type"] == "in_channel"


async def test_image_and_tts_are_uploaded_and_charged(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        before = await _balance(s, ALICE)
        await s.poster.command("/image", "a red fox", user=ALICE, channel=CHANNEL)
        await s.poster.command("/tts", "read me aloud", user=ALICE, channel=CHANNEL)
        done = await eventually(
            lambda: (
                [f for f in s.slack.files.values() if f.channel == CHANNEL and f.data]
                if len([f for f in s.slack.files.values() if f.channel]) == 2
                else None
            ),
            what="two uploads",
        )
        by_name = {f.filename: f for f in done}
        assert by_name["image.png"].data.startswith(b"\x89PNG")
        assert by_name["image.png"].title == "a red fox"
        assert by_name["speech.ogg"].data.startswith(b"OggS")
        assert len(s.slack.calls_to("files.completeUploadExternal")) == 2
        assert await _balance(s, ALICE) < before


async def test_audio_file_in_dm_is_transcribed_and_answered(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        s.llm.script(transcript="what time is it")
        event = s.message_event("", channel=DM)
        event["subtype"] = "file_share"
        event["files"] = [
            s.slack.host_file("clip.m4a", b"\x00\x00\x00\x18ftypM4A " * 50, "audio/mp4")
        ]
        await s.poster.event(event)
        answer = await eventually(
            lambda: [m for m in s.slack.bot_messages(DM) if m.text == "Echo: what time is it"],
            what="answer to the transcript",
        )
        assert answer
        assert any(
            "what time is it" in m.text for m in s.slack.bot_messages(DM) if m is not answer[0]
        )
        paths = [r.path for r in s.llm.requests]
        assert "/audio/transcriptions" in paths and "/chat/completions" in paths


async def test_admin_commands_for_a_bot_admin_not_a_workspace_admin(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        before = await _balance(s, ALICE)
        await s.poster.command(
            "/admin", f"grant <@{ALICE}|alice> 50 thanks", user=ADMIN, channel=CHANNEL
        )
        (granted,) = await eventually(lambda: s.slack.responses, what="grant reply")
        assert granted["response_type"] == "ephemeral"
        assert await _balance(s, ALICE) == before + 50 * MICRO

        # Bob is a Slack workspace admin, not a bot admin: refused, nothing changes.
        await s.poster.command("/admin", f"grant {ALICE} 50", user=BOB, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 2, what="refusal")
        refusal = s.slack.responses[1]
        assert refusal["response_type"] == "ephemeral"
        assert "not allowed" in refusal["text"]
        assert await _balance(s, ALICE) == before + 50 * MICRO
        await s.poster.command("/admin", f"ban {ALICE}", user=BOB, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 3)
        assert "not allowed" in s.slack.responses[2]["text"]

        await s.poster.command("/admin", f"user {ALICE}", user=ADMIN, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 4)
        assert (
            f"slack:{TEAM}/{ALICE}" in s.slack.responses[3]["text"]
            or "alice" in s.slack.responses[3]["text"]
        )

        # Stats: the text as an ephemeral reply, the chart uploaded to the admin's DM only.
        await s.poster.command("/admin", "stats", user=ADMIN, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 5)
        assert "Last 30 days" in s.slack.responses[4]["text"]
        charts = await eventually(
            lambda: [f for f in s.slack.files.values() if f.filename == "usage.png" and f.channel],
            what="the chart upload",
        )
        assert [f.channel for f in charts] == [f"D{ADMIN}"]
        assert charts[0].data.startswith(b"\x89PNG")


async def test_stop_button_stops_the_answer(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url, slack_native_streaming=False) as s:
        s.llm.script(reply=" ".join(f"w{i}" for i in range(400)), delay=0.02)
        event = await s.mention("talk a lot")
        first = await eventually(
            lambda: [m for m in s.slack.bot_messages(CHANNEL, event["ts"]) if m.blocks],
            what="a message with Stop",
        )
        value = first[0].blocks[-1]["elements"][0]["value"]
        assert value.startswith("stop:")
        action = await s.poster.action(
            "stop", value, user=ALICE, channel=CHANNEL, message_ts=first[0].ts
        )
        assert action.status == 200
        # The shared outcome note ends the answer's final text (bots.streaming.answer).
        await eventually(
            lambda: s.slack.messages[(CHANNEL, first[0].ts)].text.endswith("\n\n(stopped)"),
            what="stopped note",
        )
        answer = s.slack.messages[(CHANNEL, first[0].ts)]
        assert not answer.blocks and "w399" not in answer.text and answer.text.startswith("w0 ")


async def test_bad_signature_and_old_timestamp_are_refused(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        event = s.message_event("sneaky", channel=DM)
        bad = await s.poster.event(event, bad_signature=True)
        old = await s.poster.event(event, timestamp_offset=-400)
        cmd = await s.poster.command(
            "/balance", "", user=ALICE, channel=CHANNEL, bad_signature=True
        )
        assert (bad.status, old.status, cmd.status) == (401, 401, 401)
        await settle(0.4)
        assert not s.llm.requests and not s.slack.calls and not s.slack.responses
        ok = await s.poster.event(event)  # the same event, properly signed
        assert ok.status == 200
        await eventually(lambda: s.llm.requests, what="processed")


async def test_url_verification_challenge(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
        answer = await s.poster._post(body, "application/json")
        assert answer.status == 200 and "abc123" in answer.body


async def test_a_retried_admin_grant_grants_once_and_answers_once(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        before = await _balance(s, ALICE)
        command = ("/admin", f"grant <@{ALICE}|alice> 7 retried")
        await s.poster.command(*command, user=ADMIN, channel=CHANNEL, trigger_id="13.37.abc")
        await eventually(lambda: s.slack.responses, what="grant reply")
        retried = await s.poster.command(
            *command, user=ADMIN, channel=CHANNEL, trigger_id="13.37.abc", retry_num=1
        )
        assert retried.status == 200
        await settle(1.0)  # room for a second reply, which must not come
        assert len(s.slack.responses) == 1
        assert await _balance(s, ALICE) == before + 7 * MICRO
