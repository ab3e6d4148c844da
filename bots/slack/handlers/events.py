"""Events API handlers: mentions, DMs, follow-ups in the bot's threads, shared audio.

Bolt acknowledges events itself before these run (``process_before_response`` off), so
Slack gets its 200 at once; a redelivery (``X-Slack-Retry-Num``) carries the same
``event_id`` and the core answers it with ``DuplicateEvent``: one answer, one charge."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bots.slack import mapping
from bots.slack.deps import SlackBot
from bots.slack.handlers import chat as answer

logger = logging.getLogger(__name__)


def register(bolt: AsyncApp, bot: SlackBot) -> None:
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not mapping.from_person(event):
            return
        message = mapping.incoming(body, event)
        await bot.remember_thread(message.team_id, message.channel, message.thread)
        await _answer(bot, message, context.bot_user_id)

    async def on_message(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not mapping.from_person(event):
            return
        message = mapping.incoming(body, event)
        if not message.is_dm:
            # A mention arrives as app_mention too: answered there, not twice.
            if message.thread_ts is None or mapping.mentions(message.text, context.bot_user_id):
                return
            if not await bot.is_bot_thread(
                message.team_id, message.channel, message.thread_ts, context.bot_user_id
            ):
                return
        await _answer(bot, message, context.bot_user_id)

    bolt.event("app_mention")(on_mention)
    bolt.event("message")(on_message)


async def _answer(bot: SlackBot, message: mapping.Incoming, bot_user_id: str | None) -> None:
    caller = await bot.caller(message.team_id, message.user)
    # In a DM the answer threads under the message only when streaming natively needs it.
    thread = message.thread if not message.is_dm or bot.native else message.thread_ts
    target = answer.Target(message.team_id, message.channel, thread, message.user)
    chat_id = mapping.chat_id(message.team_id, message.channel, message.thread)
    clip = mapping.audio_file(message.files)
    if clip is not None:
        await answer.transcribe_and_chat(bot, target, caller, chat_id, clip, message.event_id)
        return
    text = mapping.plain_text(message.text, bot_user_id)
    if not text and message.files:
        return  # a non-audio file with no words: nothing to answer
    await answer.chat(bot, target, caller, chat_id, text, mapping.event_id(message.event_id))
