"""Slack end to end: /persona and /cost typed as slash commands apply in the channel's
threads, a question in a thread goes with the thread's first message, /export lands in
the person's DM."""

from __future__ import annotations

from tests.e2e.slack_harness import ALICE, BOB, CHANNEL, TEAM, eventually, slack_stack


async def test_channel_settings_apply_in_threads_with_the_parent_quoted(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        await s.poster.command("/persona", "tutor", user=ALICE, channel=CHANNEL)
        await s.poster.command("/cost", "on", user=ALICE, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 2, what="two command replies")
        assert s.slack.responses[0]["text"] == "Persona for this chat: tutor."

        parent = s.slack.post_user_message(CHANNEL, BOB, "The deploy failed with exit 137.")
        asked = s.slack.post_user_message(
            CHANNEL, ALICE, f"<@{s.slack.bot_user_id}> why?", parent.ts
        )
        event = {
            "type": "app_mention",
            "user": ALICE,
            "text": asked.text,
            "ts": asked.ts,
            "thread_ts": parent.ts,
            "channel": CHANNEL,
            "team": TEAM,
            "event_ts": asked.ts,
        }
        assert (await s.poster.event(event)).status == 200
        await eventually(lambda: s.slack.calls_to("chat.stopStream"), what="the answer")
        body = s.llm.requests_to("/chat/completions")[-1].body["messages"]
        assert "You are a patient tutor." in body[0]["content"]
        assert body[-1] == {
            "role": "user",
            "content": f"[{BOB} wrote:]\n> The deploy failed with exit 137.\n\nwhy?",
        }
        (answer,) = s.slack.bot_messages(CHANNEL, parent.ts)
        assert answer.text.startswith("Echo: ") and "Cost: " in answer.text

        await s.poster.command("/export", "", user=ALICE, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 3, what="/export")
        assert s.slack.responses[2]["response_type"] == "ephemeral"
        exported = await eventually(
            lambda: [f for f in s.slack.files.values() if f.filename.endswith(".md") and f.channel],
            what="the uploaded transcript",
        )
        assert exported[0].channel == f"D{ALICE}"  # the DM conversations.open gave
        markdown = exported[0].data.decode()
        assert "## You" in markdown and "\nwhy?\n" in markdown


async def test_voice_on_uploads_the_spoken_answer_after_the_text(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        s.llm.script(reply="Spoken and written.")
        await s.poster.command("/voice", "on", user=ALICE, channel=CHANNEL)
        await eventually(lambda: s.slack.responses, what="/voice on")
        assert s.slack.responses[0]["text"].startswith("Voice replies: on")
        await s.poster.event(s.message_event("say it"))
        audio = await eventually(
            lambda: [f for f in s.slack.files.values() if f.channel and f.data],
            what="the spoken answer",
        )
        assert audio[0].filename.endswith(".ogg") and audio[0].data[:4] == b"OggS"
        (speech,) = s.llm.requests_to("/audio/speech")
        assert speech.body["input"] == "Spoken and written."
        await s.poster.command("/voice", "sideways", user=ALICE, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 2, what="the refusal")
        assert "/voice on|off|auto" in s.slack.responses[1]["text"]
