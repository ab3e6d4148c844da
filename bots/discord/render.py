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
STOP_TEMPLATE = r"stop:(?P<request_id>[0-9a-f]{8,64})"  # handlers/stop.py answers a press


def stop_view(request_id: str, label: str) -> discord.ui.View:
    """The Stop button (``stop:<request_id>``). It only looks: the press is handled by a
    dynamic item registered in the client, so any worker process can answer it."""
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label=label, style=discord.ButtonStyle.danger, custom_id=f"stop:{request_id}"
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
