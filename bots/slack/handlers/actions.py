"""Interactivity: the Stop button (``stop:<request_id>``) on a streaming answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bots.slack.deps import SlackDeps
from bots.slack.render import STOP_PREFIX

logger = logging.getLogger(__name__)

ActionListener = Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncRespond], Awaitable[None]]


def on_stop(deps: SlackDeps) -> ActionListener:
    async def stop(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        value = str(action.get("value") or "")
        if not value.startswith(STOP_PREFIX):
            return
        # The flag is shared: the worker streaming this answer sees it and stops.
        await deps.core.chat.stop(value[len(STOP_PREFIX) :])
        if (body.get("container") or {}).get("is_ephemeral"):
            await respond(delete_original=True)  # the private Stop button has done its job

    return stop
