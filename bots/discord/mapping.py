"""Discord objects to the core's types: who is asking, in which chat, under which event id,
whether a message is addressed to the bot at all, and whether an attachment is audio the
core will take."""

from __future__ import annotations

import re

import discord

from bots.files import looks_like_audio
from core.errors import AudioTooLarge, UnsupportedFile
from core.services.requests import Caller, Venue
from core.types import IdentityKey

PLATFORM = "discord"


def caller(
    user: discord.abc.User,
    locale: discord.Locale | None = None,
    channel_id: int | None = None,
    guild_id: int | None = None,
) -> Caller:
    """A Discord user id is global, so the workspace is "" whatever the guild. The
    channel, server and roles travel along for the access lists."""
    roles = tuple(str(r.id) for r in user.roles) if isinstance(user, discord.Member) else ()
    venue = None
    if channel_id is not None:
        server = str(guild_id) if guild_id else ""
        venue = Venue(str(channel_id), private=not guild_id, server=server, roles=roles)
    return Caller(
        IdentityKey(PLATFORM, "", str(user.id)),
        display_name=user.name,
        locale=locale.value if locale is not None else None,
        venue=venue,
    )


def chat_id(channel_id: int | None) -> str:
    """Context is kept per channel (a DM and a thread are channels too)."""
    return str(channel_id or 0)


def interaction_event(interaction_id: int) -> str:
    return f"dc:i:{interaction_id}"


def message_event(message_id: int, part: str = "") -> str:
    return f"dc:m:{message_id}{':' + part if part else ''}"


def is_dm(message: discord.Message) -> bool:
    return isinstance(message.channel, discord.DMChannel)


def addressed_to(message: discord.Message, bot_user: discord.abc.User) -> bool:
    """In a DM every message; in a server channel a mention of the bot or a reply to it."""
    if is_dm(message):
        return True
    if any(user.id == bot_user.id for user in message.mentions):
        return True
    resolved = message.reference.resolved if message.reference else None
    return isinstance(resolved, discord.Message) and resolved.author.id == bot_user.id


def strip_mention(content: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", "", content).strip()


def is_audio(attachment: discord.Attachment) -> bool:
    """Discord sends voice messages as OGG/Opus with a duration; some clients label audio
    files only by their extension."""
    kind = (attachment.content_type or "").split(";")[0].strip().lower()
    return attachment.is_voice_message() or looks_like_audio(attachment.filename, kind or None)


def audio_attachment(message: discord.Message) -> discord.Attachment | None:
    return next((a for a in message.attachments if is_audio(a)), None)


def audio_refusal(
    attachment: discord.Attachment, max_bytes: int
) -> UnsupportedFile | AudioTooLarge | None:
    """Refuse before downloading: not audio, or larger than the core's own limit."""
    if not is_audio(attachment):
        return UnsupportedFile()
    if attachment.size > max_bytes:
        return AudioTooLarge(size_mb=f"{attachment.size / 2**20:.1f}", limit_mb=max_bytes // 2**20)
    return None


def caller_identity(user_id: int | str) -> IdentityKey:
    return IdentityKey(PLATFORM, "", str(user_id))
