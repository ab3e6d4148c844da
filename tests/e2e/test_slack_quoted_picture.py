"""A Slack question in a thread whose first message shared a picture (issue 14 item 5):
the bot reads the parent with conversations.replies, downloads its image file from the
fake file host and the fake LLM receives it as an image part after the quote."""

from __future__ import annotations

from tests.e2e.slack_harness import ALICE, BOB, CHANNEL, TEAM, eventually, slack_stack
from tests.sample_files import picture


async def test_a_thread_question_sends_the_parents_picture(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        parent = s.slack.post_user_message(CHANNEL, BOB, "the new logo")
        parent.files = [s.slack.host_file("logo.png", picture(700, 300), "image/png")]
        asked = s.slack.post_user_message(
            CHANNEL, ALICE, f"<@{s.slack.bot_user_id}> too bright?", parent.ts
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
        text, part = s.llm.requests_to("/chat/completions")[-1].body["messages"][-1]["content"]
        assert text == {"type": "text", "text": f"[{BOB} wrote:]\n> the new logo\n\ntoo bright?"}
        assert part["image_url"]["url"].startswith("data:image/")
        assert len(s.slack.downloads) == 1
