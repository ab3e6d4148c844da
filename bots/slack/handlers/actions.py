"""Interactivity: the Stop button (``stop:<request_id>``) on a streaming answer, and the
Send button under a /broadcast preview (the same as ``/admin broadcast confirm``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bots.language import translator
from bots.slack import mapping
from bots.slack.deps import SlackDeps
from bots.slack.errors import refusal
from bots.slack.render import STOP_PREFIX
from core.errors import CoreError

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


def on_broadcast_send(deps: SlackDeps) -> ActionListener:
    async def send(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        team = str((body.get("team") or {}).get("id") or "")
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        caller = mapping.in_channel(
            await deps.caller(team, user), team, channel, mapping.is_dm_channel(channel)
        )
        t = await translator(deps.core, caller)
        value = str(action.get("value") or "")
        try:
            if not value.isdigit():
                raise CoreError()
            started = await deps.core.announcements.confirm(caller, int(value))
        except CoreError as exc:
            said = refusal(t, exc)
            if said is not None:
                await respond(text=said, response_type="ephemeral", replace_original=False)
            return
        text = t("cmd.broadcast_started", id=started.id, people=started.people)
        await respond(text=text, response_type="ephemeral", replace_original=True)

    return send
