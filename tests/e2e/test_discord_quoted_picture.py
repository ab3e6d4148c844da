"""A Discord question that replies to a message with an image attachment (issue 14 item
5): discord.py reads the attachment from the fake CDN and the fake LLM receives it as an
image part after the quote."""

from __future__ import annotations

import base64

from tests.e2e.discord_harness import discord_env, eventually
from tests.sample_files import picture


async def test_a_reply_to_an_image_sends_it_with_the_question(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, channel = env.fake, env.channel_id
        bob = {**env.admin, "global_name": "Bob"}
        image = fake.store_file(channel, "chart.png", "image/png", picture(600, 400))
        shared = await fake.user_message(bob, "our sales", channel_id=channel,
                                         attachments=[image])  # fmt: skip
        await fake.user_message(
            env.alice, "what trend?", channel_id=channel, mention_bot=True, reply_to=shared
        )
        await eventually(lambda: bool(fake.channel_messages(channel)), what="the answer")
        (request,) = env.llm.requests_to("/chat/completions")
        text, part = request.body["messages"][-1]["content"]
        assert text == {"type": "text", "text": "[Bob wrote:]\n> our sales\n\nwhat trend?"}
        url = part["image_url"]["url"]
        assert url.startswith("data:image/")
        assert len(base64.b64decode(url.split(",", 1)[1])) > 100
