"""What the Slack handlers reach, built once in ``app.build`` from the opened App: the core,
the Web API client, the settings, per-workspace pacers, who people are (``users.info``,
cached), which threads the bot follows (shared flags, seen by every worker) and whether
native streaming is still on. No module-level state: everything lives in ``SlackDeps``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.settings import Settings
from bots.slack import mapping
from bots.streaming import Pacer
from core.ports import SharedFlags
from core.services import Core
from core.services.requests import Caller

logger = logging.getLogger(__name__)

PEOPLE_TTL_S = 3600.0
THREAD_TTL_S = 14 * 24 * 3600.0
_MAX_CACHED = 10_000


@dataclass
class NativeStreaming:
    """Whether answers stream through ``chat.startStream``; off for good once Slack
    refuses the scope, so later answers edit messages straight away."""

    enabled: bool

    def refused(self) -> None:
        if self.enabled:
            logger.warning("slack: native streaming refused (scope): editing messages from now")
        self.enabled = False


@dataclass
class Pacers:
    """One pacer per workspace and kind: chat.update is Tier 3 per workspace, the streaming
    methods have their own budget. Shared by every worker when Redis is configured."""

    make: Callable[[str, float], Pacer]
    settings: Settings
    _made: dict[str, Pacer] = field(default_factory=dict)

    def for_team(self, team_id: str, *, native: bool) -> Pacer:
        name = f"{'slack-stream' if native else 'slack'}:{team_id}"
        if name not in self._made:
            per_minute = (
                self.settings.slack_stream_calls_per_minute
                if native
                else self.settings.slack_updates_per_minute
            )
            self._made[name] = self.make(name, per_minute / 60.0)
        return self._made[name]


@dataclass
class People:
    """Who a Slack user is: their name (for ``@name`` references) and locale when Slack
    tells them, without them when it does not."""

    client: AsyncWebClient
    _cache: dict[tuple[str, str], tuple[float, Caller]] = field(default_factory=dict)

    async def caller(self, team_id: str, user_id: str) -> Caller:
        cached = self._cache.get((team_id, user_id))
        if cached is not None and time.monotonic() - cached[0] < PEOPLE_TTL_S:
            return cached[1]
        name = locale = None
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
            user = response.get("user") or {}
            profile = user.get("profile") or {}
            name = profile.get("display_name") or user.get("name") or None
            locale = (user.get("locale") or "").split("-")[0] or None
        except SlackApiError as error:
            logger.info("users.info for %s failed: %s", user_id, error.response.get("error"))
        person = mapping.caller(team_id, user_id, name, locale)
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[(team_id, user_id)] = (time.monotonic(), person)
        return person


@dataclass
class BotThreads:
    """The threads the bot follows (its answers, its /ask questions, a mention at the top),
    so follow-ups there need no mention. Recorded as shared flags: any worker knows them."""

    flags: SharedFlags
    client: AsyncWebClient

    async def remember(self, team_id: str, channel: str, thread_ts: str) -> None:
        await self.flags.put(_thread_key(team_id, channel, thread_ts), "1", THREAD_TTL_S)

    async def follows(
        self, team_id: str, channel: str, thread_ts: str, bot_user_id: str | None
    ) -> bool:
        """Known to some worker, or the thread shows the bot (its reply, or a mention in
        the first message): then it is the bot's."""
        if await self.flags.get(_thread_key(team_id, channel, thread_ts)) is not None:
            return True
        if not bot_user_id or not await self._shows_bot(channel, thread_ts, bot_user_id):
            return False
        await self.remember(team_id, channel, thread_ts)
        return True

    async def _shows_bot(self, channel: str, thread_ts: str, bot_user_id: str) -> bool:
        try:
            response = await self.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=100
            )
        except SlackApiError as error:
            logger.info("conversations.replies failed: %s", error.response.get("error"))
            return False
        messages: list[dict[str, Any]] = response.get("messages") or []
        if messages and mapping.mentions(str(messages[0].get("text") or ""), bot_user_id):
            return True
        return any(m.get("user") == bot_user_id for m in messages[1:])


def _thread_key(team_id: str, channel: str, thread_ts: str) -> str:
    return f"thread:{team_id}:{channel}:{thread_ts}"


@dataclass(frozen=True, slots=True)
class SlackDeps:
    core: Core
    client: AsyncWebClient
    settings: Settings
    pacers: Pacers
    people: People
    threads: BotThreads
    streaming: NativeStreaming

    @property
    def native(self) -> bool:
        return self.streaming.enabled

    async def caller(self, team_id: str, user_id: str) -> Caller:
        return await self.people.caller(team_id, user_id)
