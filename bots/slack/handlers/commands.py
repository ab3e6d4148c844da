"""Slash commands: ``/ask``, ``/retry``, ``/image``, ``/tts``, the shared text commands and
``/admin <grant|setrole|ban|unban|user|stats> …``.

Each handler acks first, before any database or model work (Slack allows 3 s), then
answers through ``respond`` (ephemeral for balances and accounts) or in the channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bots.commands import ADMIN_COMMANDS, CommandContext, run_command
from bots.language import translator
from bots.slack import mapping
from bots.slack.deps import SlackDeps
from bots.slack.errors import refusal
from bots.slack.handlers import chat, media
from bots.slack.mapping import Target
from bots.slack.render import broadcast_blocks
from core.errors import CoreError

logger = logging.getLogger(__name__)

# Shared text commands with a slash command of their own (help and start are answered
# through /admin's fallback, so they are not registered).
SHARED = (
    "balance", "reset", "history", "model", "lang", "link", "usage", "join", "mute", "unmute",
)  # fmt: skip
# How the bot talks to the person (bots.personal_commands); Slack has no option choices,
# so the values are typed: /persona tutor, /voice auto, /cost on, /instructions clear.
PERSONAL = ("persona", "instructions", "voice", "cost", "settings", "export")
PAID = ("ask", "retry", "image", "tts")
SLASH_COMMANDS = (*PAID, *SHARED, *PERSONAL, "admin")

CommandListener = Callable[[AsyncAck, dict[str, Any], AsyncRespond], Awaitable[None]]


def on_command(deps: SlackDeps) -> CommandListener:
    async def command_listener(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        name, args = mapping.command_name(command["command"]), str(command.get("text") or "")
        if name == "admin":
            name, args = mapping.split_admin(args)
            name = name if name in ADMIN_COMMANDS else "help"
        team, user = str(command.get("team_id") or ""), str(command["user_id"])
        channel = str(command["channel_id"])
        caller = mapping.in_channel(
            await deps.caller(team, user), team, channel, mapping.is_dm_channel(channel)
        )
        t = await translator(deps.core, caller)
        event = mapping.command_event(command)
        try:
            if name in PAID:
                target = Target(team, channel, None, user)
                text = mapping.plain_text(args)
                if name == "ask":
                    await chat.ask(deps, target, caller, text, event)
                elif name == "retry":
                    await chat.ask(deps, target, caller, "/retry", event, retry=True)
                else:
                    await media.image_or_speech(deps, name, target, caller, t, text, event)
                return
            chat_id = mapping.chat_id(team, channel, None)
            context = CommandContext(deps.core, caller, chat_id, event_id=event)
            reply = await run_command(context, name, mapping.command_args(args))
            text, private = (reply.text, reply.private) if reply else (t("cmd.help"), True)
            if reply is not None and reply.confirm_broadcast is not None:
                label = t("cmd.broadcast_send")
                blocks = broadcast_blocks(text, reply.confirm_broadcast, label)
                await respond(text=text, blocks=blocks, response_type="ephemeral")
                return
            await respond(text=text, response_type="ephemeral" if private else "in_channel")
            if reply is not None and reply.image is not None:
                await send_chart(deps, user, reply.image)
            if reply is not None and reply.file is not None:
                await send_private_file(deps, user, reply.file.filename, reply.file.data)
        except CoreError as exc:
            said = refusal(t, exc)
            if said is not None:
                await respond(text=said, response_type="ephemeral")

    return command_listener


async def send_chart(deps: SlackDeps, user: str, png: bytes) -> None:
    """The /admin stats chart, uploaded to the admin's DM with the bot (files are never
    ephemeral in Slack, and the chart is for the admin only)."""
    await send_private_file(deps, user, "usage.png", png)


async def send_private_file(deps: SlackDeps, user: str, filename: str, data: bytes) -> None:
    """A file for one person (a chart, the /export transcript): uploaded to their DM."""
    opened = await deps.client.conversations_open(users=[user])
    dm = str(opened["channel"]["id"])
    await deps.client.files_upload_v2(
        channel=dm, file=data, filename=filename, title=filename, initial_comment=""
    )
