"""Discord's JSON shapes as the fake server answers and dispatches them (API v10).

Builders for users, members, messages, attachments and interactions, plus Discord's
error bodies. Snowflakes are strings in JSON, as on the real API.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
_sequence = itertools.count(1)


def snowflake() -> int:
    """A fresh id that sorts by time, like Discord's (timestamp << 22 | counter)."""
    millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (millis << 22) | (next(_sequence) & 0x3FFFFF)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: int, name: str, *, bot: bool = False) -> JSON:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member(user_payload: JSON, *, permissions: int = 0, roles: list[str] | None = None) -> JSON:
    return {
        "user": user_payload,
        "nick": None,
        "roles": roles or [],
        "joined_at": now_iso(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "permissions": str(permissions),
    }


def attachment(
    attachment_id: int,
    filename: str,
    size: int,
    url: str,
    content_type: str | None,
    *,
    duration_secs: float | None = None,
) -> JSON:
    data: JSON = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type:
        data["content_type"] = content_type
    if duration_secs is not None:
        data["duration_secs"] = duration_secs
        data["waveform"] = "AAAA"
    return data


def message(
    message_id: int,
    channel_id: int,
    author: JSON,
    content: str,
    *,
    guild_id: int | None = None,
    attachments: list[JSON] | None = None,
    mentions: list[JSON] | None = None,
    components: list[JSON] | None = None,
    flags: int = 0,
    referenced: JSON | None = None,
    webhook_id: int | None = None,
    application_id: int | None = None,
) -> JSON:
    data: JSON = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": [],
        "pinned": False,
        "type": 19 if referenced else 0,
        "flags": flags,
        "components": components or [],
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    if referenced is not None:
        data["message_reference"] = {
            "type": 0,
            "message_id": referenced["id"],
            "channel_id": referenced["channel_id"],
            **({"guild_id": str(guild_id)} if guild_id is not None else {}),
        }
        data["referenced_message"] = referenced
    if webhook_id is not None:
        data["webhook_id"] = str(webhook_id)
    if application_id is not None:
        data["application_id"] = str(application_id)
    return data


def channel(channel_id: int, *, guild_id: int | None, name: str = "general") -> JSON:
    if guild_id is None:
        return {"id": str(channel_id), "type": 1, "recipients": [], "last_message_id": None}
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def guild(guild_id: int, name: str, channels: list[JSON], owner_id: int) -> JSON:
    everyone = {
        "id": str(guild_id),
        "name": "@everyone",
        "color": 0,
        "hoist": False,
        "position": 0,
        "permissions": "1071698660929",
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "owner_id": str(owner_id),
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 2,
        "large": False,
        "unavailable": False,
        "channels": channels,
        "threads": [],
        "members": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "joined_at": now_iso(),
    }


def error(message_text: str, code: int, errors: JSON | None = None) -> JSON:
    body: JSON = {"message": message_text, "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


def too_long(field: str, limit: int) -> JSON:
    detail = {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
    return error("Invalid Form Body", 50035, {field: {"_errors": [detail]}})


def rate_limited(retry_after: float, *, is_global: bool) -> JSON:
    return {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
