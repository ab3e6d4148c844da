"""Interactivity: the Stop button (``stop:<request_id>``) on a streaming answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bots.slack.deps import SlackBot

logger = logging.getLogger(__name__)

STOP_PREFIX = "stop:"


def register(bolt: AsyncApp, bot: SlackBot) -> None:
    async def on_stop(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        value = str(action.get("value") or "")
        if not value.startswith(STOP_PREFIX):
            return
        # The flag lives in Redis: the worker streaming this answer sees it and stops.
        await bot.app.core.chat.stop(value[len(STOP_PREFIX) :])
        if (body.get("container") or {}).get("is_ephemeral"):
            await respond(delete_original=True)  # the private Stop button has done its job

    bolt.action("stop")(on_stop)
