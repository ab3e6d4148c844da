"""How the bot's output looks on Discord: messages of at most 2,000 characters in the
model's own Markdown (Discord renders it), never a ping, the Stop button under a streaming
answer, and images and speech as attached files with the prompt as caption."""

from __future__ import annotations

import io

import discord

from bots.files import extension_for
from core.types import AudioReady, ImageReady

MAX_TEXT = 2000
NO_PINGS = discord.AllowedMentions.none()
# handlers/stop.py answers a press; the owner (who asked) rides in the custom_id. Buttons
# drawn before owners were recorded have none, and anyone may press those.
STOP_TEMPLATE = r"stop:(?P<request_id>[0-9a-f]{8,64})(?::(?P<owner>[0-9]{1,20}))?"


def stop_custom_id(request_id: str, owner: int | None) -> str:
    return f"stop:{request_id}" if owner is None else f"stop:{request_id}:{owner}"


def stop_view(request_id: str, label: str, owner: int | None = None) -> discord.ui.View:
    """The Stop button (``stop:<request_id>:<owner>``). It only looks: the press is handled
    by a dynamic item registered in the client, so any worker process can answer it."""
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label=label,
            style=discord.ButtonStyle.danger,
            custom_id=stop_custom_id(request_id, owner),
        )
    )
    return view


# handlers/broadcast.py answers a press of Send under a /admin broadcast preview.
BROADCAST_TEMPLATE = r"bc:(?P<draft>[0-9]{1,18})"


def broadcast_view(draft_id: int, label: str) -> discord.ui.View:
    """The Send button (``bc:<draft id>``), answered by any worker (a dynamic item)."""
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label=label, style=discord.ButtonStyle.primary, custom_id=f"bc:{draft_id}"
        )
    )
    return view


def media_file(item: ImageReady | AudioReady) -> discord.File:
    stem = "image" if isinstance(item, ImageReady) else "speech"
    return discord.File(io.BytesIO(item.data), filename=f"{stem}.{extension_for(item.mime)}")


def caption(item: ImageReady | AudioReady) -> str:
    if isinstance(item, ImageReady) and item.prompt:
        return item.prompt if len(item.prompt) <= MAX_TEXT else item.prompt[: MAX_TEXT - 1] + "…"
    return ""
