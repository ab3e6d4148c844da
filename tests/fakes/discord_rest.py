"""The REST routes of the fake Discord that discord.py calls for this bot.

Interaction callbacks (deferral type 5, message type 4, deferred update 6, update 7,
autocomplete 8; ephemeral flag 64) within the 3-second deadline and once only; webhook
edits of the original response and follow-ups while the interaction token lives (401
"Invalid Webhook Token" after); channel messages; JSON or multipart bodies with files.
Content over 2000 characters is refused with Discord's form error.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes import discord_shapes as shapes

if TYPE_CHECKING:
    from tests.fakes.discord_server import Call, FakeDiscord, InteractionState

JSON = dict[str, Any]
MAX_CONTENT = 2000
EPHEMERAL, LOADING = 64, 128


class ApiError(Exception):
    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def unknown_message() -> ApiError:
    return ApiError(404, shapes.error("Unknown Message", 10008))


def _check_content(payload: JSON, *, creating: bool, has_files: bool) -> None:
    content = payload.get("content")
    if content is not None and len(content) > MAX_CONTENT:
        raise ApiError(400, shapes.too_long("content", MAX_CONTENT))
    if creating and not (
        content or has_files or payload.get("embeds") or payload.get("components")
    ):
        raise ApiError(400, shapes.error("Cannot send an empty message", 50006))


class Rest:
    """Handlers; ``server`` holds the state and records the calls."""

    def __init__(self, server: FakeDiscord) -> None:
        self.s = server

    # ---- the bot's identity ------------------------------------------------------------

    async def gateway_bot(self, call: Call, request: web.Request) -> JSON:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return {
            "url": self.s.gateway_url,
            "shards": self.s.recommended_shards,
            "session_start_limit": limit,
        }

    async def users_me(self, call: Call, request: web.Request) -> JSON:
        return self.s.bot_user

    async def application(self, call: Call, request: web.Request) -> JSON:
        return {
            "id": str(self.s.app_id),
            "name": "Switchboard",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": shapes.user(self.s.owner_id, "owner"),
            "verify_key": "00" * 32,
            "flags": 0,
            "team": None,
            "interactions_endpoint_url": None,
            "bot": self.s.bot_user,
        }

    async def bulk_overwrite(self, call: Call, request: web.Request) -> list[JSON]:
        raw_guild = request.match_info.get("guild_id")
        guild_id = int(raw_guild) if raw_guild else None
        commands = []
        for command in call.payload if isinstance(call.payload, list) else []:
            stored = {
                "id": str(shapes.snowflake()),
                "application_id": str(self.s.app_id),
                "version": str(shapes.snowflake()),
                "type": command.get("type", 1),
                "name": command["name"],
                "description": command.get("description", ""),
                "options": command.get("options", []),
                "default_member_permissions": command.get("default_member_permissions"),
                "dm_permission": command.get("dm_permission", True),
                "nsfw": command.get("nsfw", False),
                "contexts": command.get("contexts"),
                "integration_types": command.get("integration_types", [0]),
            }
            if guild_id is not None:
                stored["guild_id"] = str(guild_id)
            commands.append(stored)
        self.s.commands[guild_id] = commands
        return commands

    # ---- interactions --------------------------------------------------------------------

    async def callback(self, call: Call, request: web.Request) -> JSON | None:
        state = self.s.interaction_by(request.match_info["id"], request.match_info["token"])
        if time.monotonic() - state.created > self.s.ack_deadline_s:
            raise ApiError(404, shapes.error("Unknown interaction", 10062))
        if state.acked is not None:
            raise ApiError(400, shapes.error("Interaction has already been acknowledged.", 40060))
        payload = call.payload if isinstance(call.payload, dict) else {}
        kind = int(payload.get("type", 0))
        data = payload.get("data") or {}
        state.acked, state.acked_at = kind, time.monotonic()
        message: JSON | None = None
        if kind in (4, 5):
            state.ephemeral = bool(int(data.get("flags", 0)) & EPHEMERAL)
            _check_content(data, creating=kind == 4, has_files=bool(call.files))
            message = self.s.new_message(
                state.channel_id,
                (data.get("content") or "") if kind == 4 else "",
                guild_id=state.guild_id,
                flags=(EPHEMERAL if state.ephemeral else 0) | (LOADING if kind == 5 else 0),
                components=data.get("components") if kind == 4 else None,
                files=call.files,
                webhook=state,
            )
            state.original_id = int(message["id"])
        elif kind == 8:
            state.choices = list(data.get("choices", []))
        elif kind == 7 and state.message_id is not None:
            message = self.s.update_message(state.message_id, data, call.files)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return None
        return self._callback_response(state, kind, message)

    @staticmethod
    def _callback_response(state: InteractionState, kind: int, message: JSON | None) -> JSON:
        body: JSON = {
            "interaction": {
                "id": str(state.id),
                "type": state.type,
                "activity_instance_id": None,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": state.ephemeral,
            }
        }
        if message is not None:
            body["resource"] = {"type": kind, "message": message}
        return body

    def _webhook_state(self, request: web.Request) -> InteractionState:
        if int(request.match_info["app"]) != self.s.app_id:
            raise ApiError(404, shapes.error("Unknown Webhook", 10015))
        state = self.s.interaction_by_token(request.match_info["token"])
        if state is None or time.monotonic() - state.created > self.s.token_ttl_s:
            raise ApiError(401, shapes.error("Invalid Webhook Token", 50027))
        return state

    def _webhook_message_id(self, state: InteractionState, raw: str) -> int:
        if raw == "@original":
            if state.original_id is None:
                raise unknown_message()
            return state.original_id
        if int(raw) not in state.followups and int(raw) != state.original_id:
            raise unknown_message()
        return int(raw)

    async def webhook_edit(self, call: Call, request: web.Request) -> JSON:
        state = self._webhook_state(request)
        message_id = self._webhook_message_id(state, request.match_info["message"])
        payload = call.payload if isinstance(call.payload, dict) else {}
        _check_content(payload, creating=False, has_files=bool(call.files))
        return self.s.update_message(message_id, payload, call.files)

    async def webhook_get(self, call: Call, request: web.Request) -> JSON:
        state = self._webhook_state(request)
        message_id = self._webhook_message_id(state, request.match_info["message"])
        return self.s.messages[message_id]

    async def webhook_delete(self, call: Call, request: web.Request) -> None:
        state = self._webhook_state(request)
        message_id = self._webhook_message_id(state, request.match_info["message"])
        self.s.deleted[message_id] = self.s.messages.pop(message_id)

    async def followup(self, call: Call, request: web.Request) -> JSON | None:
        state = self._webhook_state(request)
        if state.acked is None:
            raise ApiError(404, shapes.error("Unknown Webhook", 10015))
        payload = call.payload if isinstance(call.payload, dict) else {}
        _check_content(payload, creating=True, has_files=bool(call.files))
        message = self.s.new_message(
            state.channel_id,
            payload.get("content") or "",
            guild_id=state.guild_id,
            flags=int(payload.get("flags", 0)) & EPHEMERAL,
            components=payload.get("components"),
            files=call.files,
            webhook=state,
        )
        state.followups.append(int(message["id"]))
        return message if request.query.get("wait") in ("1", "true", "True") else None

    # ---- channel messages ----------------------------------------------------------------

    async def channel_create(self, call: Call, request: web.Request) -> JSON:
        channel_id = int(request.match_info["channel"])
        payload = call.payload if isinstance(call.payload, dict) else {}
        _check_content(payload, creating=True, has_files=bool(call.files))
        reference = payload.get("message_reference") or {}
        referenced = self.s.messages.get(int(reference["message_id"])) if reference else None
        return self.s.new_message(
            channel_id,
            payload.get("content") or "",
            guild_id=self.s.guild_of(channel_id),
            components=payload.get("components"),
            files=call.files,
            referenced=referenced,
        )

    async def channel_edit(self, call: Call, request: web.Request) -> JSON:
        message_id = int(request.match_info["message"])
        message = self.s.messages.get(message_id)
        if message is None or int(message["channel_id"]) != int(request.match_info["channel"]):
            raise unknown_message()
        if message["author"]["id"] != self.s.bot_user["id"] or message.get("webhook_id"):
            raise ApiError(
                403, shapes.error("Cannot edit a message authored by another user", 50005)
            )
        payload = call.payload if isinstance(call.payload, dict) else {}
        _check_content(payload, creating=False, has_files=bool(call.files))
        return self.s.update_message(message_id, payload, call.files)

    async def channel_get(self, call: Call, request: web.Request) -> JSON:
        message = self.s.messages.get(int(request.match_info["message"]))
        if message is None:
            raise unknown_message()
        return message

    async def typing(self, call: Call, request: web.Request) -> None:
        return None
