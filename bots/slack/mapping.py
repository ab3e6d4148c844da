"""Slack payloads as the core's terms: who asks (team + user), in which conversation
(a thread or a DM), with which platform event id, and what they said or shared."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from typing import Any

from bots.files import is_picture_or_document, looks_like_audio
from core.services.requests import Caller, Venue
from core.types import IdentityKey

PLATFORM = "slack"
# Subtypes that carry a person's words; everything else (edits, joins, bots) is ignored.
ANSWERABLE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A person's message event, reduced to what the adapter needs."""

    team_id: str
    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str | None
    channel_type: str
    event_id: str | None
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_dm(self) -> bool:
        return self.channel_type == "im" or self.channel.startswith("D")

    @property
    def thread(self) -> str:
        """The thread an answer goes to: the one it was said in, or a new one under it."""
        return self.thread_ts or self.ts


@dataclass(frozen=True, slots=True)
class Target:
    """Where an answer goes: a channel, a thread in it (None: the channel itself), and
    who asked (a private message goes to them)."""

    team_id: str
    channel: str
    thread_ts: str | None
    user_id: str

    @property
    def is_dm(self) -> bool:
        return self.channel.startswith("D")


def incoming(body: dict[str, Any], event: dict[str, Any]) -> Incoming:
    return Incoming(
        team_id=str(event.get("team") or body.get("team_id") or ""),
        channel=str(event.get("channel") or ""),
        user=str(event.get("user") or ""),
        text=str(event.get("text") or ""),
        ts=str(event.get("ts") or ""),
        thread_ts=event.get("thread_ts") or None,
        channel_type=str(event.get("channel_type") or ""),
        event_id=body.get("event_id"),
        files=list(event.get("files") or []),
    )


def from_person(event: dict[str, Any]) -> bool:
    """False for bots (ours included), edits, deletions and other system messages."""
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return False
    return event.get("subtype") in ANSWERABLE_SUBTYPES


def caller(
    team_id: str, user_id: str, name: str | None = None, locale: str | None = None
) -> Caller:
    return Caller(IdentityKey(PLATFORM, team_id, user_id), display_name=name, locale=locale)


def chat_id(team_id: str, channel: str, thread_ts: str | None) -> str:
    """A DM is one conversation; in channels each thread is its own."""
    if channel.startswith("D") or thread_ts is None:
        return f"{team_id}:{channel}"
    return f"{team_id}:{channel}:{thread_ts}"


def command_event(command: dict[str, Any]) -> str | None:
    """A slash command's event id, from its ``trigger_id`` (unique per invocation and the
    same in a retry); None when Slack sent none, so that two commands never share one."""
    trigger = command.get("trigger_id")
    return event_id(f"cmd:{trigger}") if trigger else None


def event_id(slack_event_id: str | None, part: str = "") -> str | None:
    """The core's platform event id; ``part`` tells apart two paid steps of one event."""
    if not slack_event_id:
        return None
    return f"slack:{slack_event_id}{':' + part if part else ''}"


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in text


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's message markup as plain words for the model: the bot's mention goes,
    links and references become their text, entities are unescaped."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text)
    text = _USER_REF.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return html.unescape(text).strip()


def command_args(text: str) -> str:
    """Slash command text with escaped user refs (``<@U123|bob>``) as plain user ids,
    which the core's admin commands accept on the caller's workspace."""
    text = _USER_REF.sub(lambda m: m.group(1), text)
    return html.unescape(text).strip()


def command_name(command: str) -> str:
    return command.lstrip("/").lower()


def split_admin(text: str) -> tuple[str, str]:
    """``/admin grant U1 10`` → ("grant", "U1 10")."""
    head, _, rest = command_args(text).partition(" ")
    return head.lower(), rest.strip()


def audio_file(files: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first audio clip or audio file shared, if any."""
    for item in files:
        mimetype = str(item.get("mimetype") or "") or None
        name = str(item.get("name") or "")
        if item.get("subtype") == "slack_audio" or looks_like_audio(name, mimetype):
            return item
    return None


def usable_files(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pictures and documents shared with a message."""
    return [
        item
        for item in files
        if is_picture_or_document(str(item.get("name") or ""), str(item.get("mimetype") or ""))
    ]


def audio_seconds(item: dict[str, Any]) -> float | None:
    duration = item.get("duration_ms")
    return float(duration) / 1000 if isinstance(duration, int | float) else None


def in_channel(caller: Caller, team_id: str, channel: str, is_dm: bool) -> Caller:
    """The caller with the channel they wrote in, for the access lists (an allowed
    channel or workspace admits its members)."""
    return replace(caller, venue=Venue(channel, private=is_dm, server=team_id))


def is_dm_channel(channel: str) -> bool:
    """Slack's direct-message channel ids start with D."""
    return channel.startswith("D")
