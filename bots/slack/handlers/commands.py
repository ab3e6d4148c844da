"""Slash commands: ``/ask``, ``/image``, ``/tts``, the shared text commands and
``/admin <grant|setrole|ban|unban|user|stats> …``.

Each handler acks first, before any database or model work (Slack allows 3 s), then
answers through ``respond`` (ephemeral for balances and accounts) or in the channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bots.commands import ADMIN_COMMANDS, CommandContext, run_command, translator_for
from bots.slack import mapping
from bots.slack.deps import SlackBot
from bots.slack.errors import describe, mapped
from bots.slack.handlers import chat as answer
from bots.slack.mrkdwn import escape
from bots.slack.sink import SlackSink
from bots.streaming import DeliveryFailed
from core.errors import CoreError, DuplicateEvent
from core.i18n import Translator
from core.services.requests import Caller, ImageRequest, SpeechRequest

logger = logging.getLogger(__name__)

SHARED = ("balance", "reset", "history", "model", "lang", "link", "help", "start")
PAID = ("ask", "image", "tts")
SLASH_COMMANDS = (*PAID, *SHARED[:6], "admin")


def register(bolt: AsyncApp, bot: SlackBot) -> None:
    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        name, args = mapping.command_name(command["command"]), str(command.get("text") or "")
        if name == "admin":
            name, args = mapping.split_admin(args)
            name = name if name in ADMIN_COMMANDS else "help"
        team, user = str(command.get("team_id") or ""), str(command["user_id"])
        caller = await bot.caller(team, user)
        t = await translator_for(bot.app.core, caller)
        channel = str(command["channel_id"])
        try:
            if name in PAID:
                target = answer.Target(team, channel, None, user)
                event = mapping.event_id(f"cmd:{command.get('trigger_id') or ''}")
                await _paid(bot, name, target, caller, t, args, event)
                return
            context = CommandContext(bot.app.core, caller, mapping.chat_id(team, channel, None))
            reply = await run_command(context, name, mapping.command_args(args))
            text, private = (reply.text, reply.private) if reply else (t("cmd.help"), True)
            await respond(text=text, response_type="ephemeral" if private else "in_channel")
            if reply is not None and reply.image is not None:
                await send_chart(bot, channel, user, reply.image)
        except CoreError as exc:
            if not isinstance(exc, DuplicateEvent):
                await respond(text=describe(t, exc), response_type="ephemeral")

    for name in SLASH_COMMANDS:
        bolt.command(f"/{name}")(on_command)


async def send_chart(bot: SlackBot, channel: str, user: str, png: bytes) -> None:
    """The /admin stats chart, uploaded to the admin's DM with the bot (files are never
    ephemeral in Slack, and the chart is for the admin only)."""
    opened = await bot.client.conversations_open(users=[user])
    dm = str(opened["channel"]["id"])
    await bot.client.files_upload_v2(
        channel=dm, file=png, filename="usage.png", title="usage.png", initial_comment=""
    )
    del channel  # the chart does not go to the channel the command came from


async def _paid(
    bot: SlackBot,
    name: str,
    target: answer.Target,
    caller: Caller,
    t: Translator,
    args: str,
    event_id: str | None,
) -> None:
    text = mapping.plain_text(args)
    chat_id = mapping.chat_id(target.team_id, target.channel, None)
    if name == "ask":
        await _ask(bot, target, caller, text, event_id)
        return
    core = bot.app.core
    if name == "image":
        item: Any = await core.media.image(
            ImageRequest(caller=caller, chat_id=chat_id, prompt=text, event_id=event_id)
        )
    else:
        item = await core.media.speech(
            SpeechRequest(caller=caller, chat_id=chat_id, text=text, event_id=event_id)
        )
    sink = SlackSink(
        bot.client,
        target.channel,
        team_id=target.team_id,
        user_id=target.user_id,
        request_id="media",
        thread_ts=None,
        native=False,
    )
    try:
        await sink.send_media(item)
    except DeliveryFailed as failure:
        logger.warning("slack: %s upload failed: %s", name, failure)
        await answer.tell(bot, target, t("error.internal"), private=True)


async def _ask(
    bot: SlackBot, target: answer.Target, caller: Caller, text: str, event_id: str | None
) -> None:
    """The question shown by the bot opens a thread; the answer streams into it, and
    the thread is the bot's, so follow-ups need no mention."""
    if not text:
        t = await translator_for(bot.app.core, caller)
        await answer.tell(bot, target, t("error.empty_input"), private=True)
        return
    async with mapped("chat.postMessage"):
        header = await bot.client.chat_postMessage(
            channel=target.channel, text=f"<@{target.user_id}>: {escape(text)}"[:3000]
        )
    ts = str(header["ts"])
    await bot.remember_thread(target.team_id, target.channel, ts)
    thread = ts if not target.is_dm or bot.native else None
    chat_id = mapping.chat_id(target.team_id, target.channel, ts)
    where = answer.Target(target.team_id, target.channel, thread, target.user_id)
    await answer.chat(bot, where, caller, chat_id, text, event_id)
