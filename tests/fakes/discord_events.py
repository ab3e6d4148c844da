"""What a test feeds the fake Discord (guilds, slash commands, button clicks, messages) and
reads back (the original response, follow-ups, channel messages). Mixed into ``FakeDiscord``.

Option values map to Discord option types: ``str`` 3, ``bool`` 5, ``int`` 4, ``float`` 10,
a user payload (has "username") 6, an attachment payload (has "filename") 11, and a nested
``dict`` a subcommand (type 1).
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from tests.fakes import discord_shapes as shapes

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscord

JSON = dict[str, Any]
ADMINISTRATOR = 1 << 3
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def _option(name: str, value: Any, resolved: JSON, focused: str | None) -> JSON:
    if isinstance(value, dict) and "username" in value:
        resolved.setdefault("users", {})[value["id"]] = value
        option: JSON = {"name": name, "type": 6, "value": value["id"]}
    elif isinstance(value, dict) and "filename" in value:
        resolved.setdefault("attachments", {})[value["id"]] = value
        option = {"name": name, "type": 11, "value": value["id"]}
    elif isinstance(value, dict):
        subs = [_option(k, v, resolved, focused) for k, v in value.items()]
        return {"name": name, "type": 1, "options": subs}
    elif isinstance(value, bool):
        option = {"name": name, "type": 5, "value": value}
    elif isinstance(value, int):
        option = {"name": name, "type": 4, "value": value}
    elif isinstance(value, float):
        option = {"name": name, "type": 10, "value": value}
    else:
        option = {"name": name, "type": 3, "value": str(value)}
    if focused == name:
        option["focused"] = True
    return option


class EventBuilders:
    def add_guild(self: FakeDiscord, name: str = "Test guild") -> tuple[int, int]:
        """A guild with one text channel, announced at IDENTIFY: (guild id, channel id)."""
        guild_id, channel_id = shapes.snowflake(), shapes.snowflake()
        channels = [shapes.channel(channel_id, guild_id=guild_id)]
        self.guilds[guild_id] = shapes.guild(guild_id, name, channels, self.owner_id)
        self._channel_guild[channel_id] = guild_id
        return guild_id, channel_id

    def _interaction(
        self: FakeDiscord,
        kind: int,
        data: JSON,
        *,
        user: JSON,
        channel_id: int,
        guild_id: int | None,
        permissions: int,
        locale: str,
    ) -> JSON:
        interaction_id = shapes.snowflake()
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": kind,
            "token": "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            "version": 1,
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 0 if guild_id else 1},
            "locale": locale,
            "data": data,
            "app_permissions": "2251799813685247",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id or user["id"])},
            "context": 0 if guild_id else 1,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["member"] = shapes.member(user, permissions=permissions)
        else:
            payload["user"] = user
        return payload

    def slash(
        self: FakeDiscord,
        name: str,
        options: JSON | None = None,
        *,
        user: JSON,
        channel_id: int,
        guild_id: int | None = None,
        permissions: int = 0,
        locale: str = "en-US",
        focused: str | None = None,
    ) -> JSON:
        """An application command (or, with ``focused``, its autocomplete) interaction."""
        resolved: JSON = {}
        built = [_option(k, v, resolved, focused) for k, v in (options or {}).items()]
        command = next((c for c in self.commands.get(guild_id, []) if c["name"] == name), None)
        command = command or next(
            (c for c in self.commands.get(None, []) if c["name"] == name), None
        )
        data: JSON = {
            "id": command["id"] if command else str(shapes.snowflake()),
            "name": name,
            "type": 1,
        }
        if built:
            data["options"] = built
        if resolved:
            data["resolved"] = resolved
        if command is not None and "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        kind = 4 if focused else 2
        return self._interaction(
            kind, data, user=user, channel_id=channel_id, guild_id=guild_id,
            permissions=permissions, locale=locale,
        )  # fmt: skip

    def click(self: FakeDiscord, message_id: int, custom_id: str, *, user: JSON) -> JSON:
        """A button press on a message the bot sent."""
        message = self.messages[message_id]
        channel_id = int(message["channel_id"])
        payload = self._interaction(
            3, {"custom_id": custom_id, "component_type": 2}, user=user, channel_id=channel_id,
            guild_id=self.guild_of(channel_id), permissions=0, locale="en-US",
        )  # fmt: skip
        payload["message"] = message
        return payload

    async def dispatch_interaction(self: FakeDiscord, payload: JSON) -> int:
        from tests.fakes.discord_server import InteractionState

        interaction_id = int(payload["id"])
        if interaction_id not in self.interactions:
            self.interactions[interaction_id] = InteractionState(
                id=interaction_id,
                token=payload["token"],
                type=payload["type"],
                channel_id=int(payload["channel_id"]),
                guild_id=int(payload["guild_id"]) if "guild_id" in payload else None,
                created=time.monotonic(),
                message_id=int(payload["message"]["id"]) if "message" in payload else None,
            )
            self._tokens[payload["token"]] = interaction_id
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return interaction_id

    async def user_message(
        self: FakeDiscord,
        author: JSON,
        content: str,
        *,
        channel_id: int,
        mention_bot: bool = False,
        reply_to: JSON | None = None,
        attachments: list[JSON] | None = None,
    ) -> JSON:
        """A message from a person, stored and dispatched as MESSAGE_CREATE."""
        guild_id = self.guild_of(channel_id)
        if mention_bot:
            content = f"<@{self.app_id}> {content}"
        message = shapes.message(
            shapes.snowflake(), channel_id, author, content, guild_id=guild_id,
            attachments=attachments, referenced=reply_to,
            mentions=[self.bot_user] if mention_bot else [],
        )  # fmt: skip
        if guild_id is not None:
            message["member"] = {k: v for k, v in shapes.member(author).items() if k != "user"}
        self.messages[int(message["id"])] = message
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return message

    # ---- reading back ---------------------------------------------------------------------

    def original(self: FakeDiscord, interaction_id: int) -> JSON | None:
        state = self.interactions[interaction_id]
        if state.original_id is None:
            return None
        return self.messages.get(state.original_id)

    def followups(self: FakeDiscord, interaction_id: int) -> list[JSON]:
        state = self.interactions[interaction_id]
        return [self.messages[m] for m in state.followups if m in self.messages]

    def answer(self: FakeDiscord, interaction_id: int) -> list[JSON]:
        """The original response (if still there) and the follow-ups, in order."""
        original = self.original(interaction_id)
        return ([original] if original else []) + self.followups(interaction_id)

    def channel_messages(self: FakeDiscord, channel_id: int) -> list[JSON]:
        """Messages the bot posted in a channel as itself (not interaction responses)."""
        return [
            m
            for _, m in sorted(self.messages.items())
            if int(m["channel_id"]) == channel_id
            and m["author"]["id"] == self.bot_user["id"]
            and not m.get("webhook_id")
        ]
