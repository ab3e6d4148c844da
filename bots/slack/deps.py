"""What the Slack handlers share: the opened app, the Web API client, per-workspace
pacers, who people are (``users.info``, cached) and which threads are the bot's."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.bootstrap import App
from bots.slack import mapping
from bots.streaming import Pacer
from core.services.requests import Caller

logger = logging.getLogger(__name__)

PEOPLE_TTL_S = 3600.0
THREAD_TTL_S = 14 * 24 * 3600
_MAX_CACHED = 10_000


@dataclass
class SlackBot:
    app: App
    client: AsyncWebClient
    native: bool = True  # turned off for good once Slack refuses the streaming scope
    _pacers: dict[str, Pacer] = field(default_factory=dict)
    _people: dict[tuple[str, str], tuple[float, Caller]] = field(default_factory=dict)
    _threads: set[str] = field(default_factory=set)

    @property
    def settings(self) -> Any:
        return self.app.settings

    def pacer(self, team_id: str, *, native: bool) -> Pacer:
        """One pacer per workspace and kind: chat.update is Tier 3 per workspace, the
        streaming methods have their own budget. Shared by every worker through Redis."""
        kind = "slack-stream" if native else "slack"
        name = f"{kind}:{team_id}"
        if name not in self._pacers:
            per_minute = (
                self.settings.slack_stream_calls_per_minute
                if native
                else self.settings.slack_updates_per_minute
            )
            self._pacers[name] = self.app.pacer(name, per_minute / 60.0)
        return self._pacers[name]

    async def caller(self, team_id: str, user_id: str) -> Caller:
        """The person, with their name (for ``@name`` references) and locale when Slack
        tells them; without them when it does not."""
        key = (team_id, user_id)
        cached = self._people.get(key)
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
        if len(self._people) >= _MAX_CACHED:
            self._people.clear()
        self._people[key] = (time.monotonic(), person)
        return person

    # ---- the bot's threads -----------------------------------------------------------

    def _thread_key(self, team_id: str, channel: str, thread_ts: str) -> str:
        return f"{self.settings.redis_prefix}slack:thread:{team_id}:{channel}:{thread_ts}"

    async def remember_thread(self, team_id: str, channel: str, thread_ts: str) -> None:
        key = self._thread_key(team_id, channel, thread_ts)
        if len(self._threads) >= _MAX_CACHED:
            self._threads.clear()
        self._threads.add(key)
        redis = self.app.kv.redis
        if redis is not None:
            try:
                await redis.set(key, "1", ex=THREAD_TTL_S)
            except RedisError as error:  # other workers will ask Slack instead
                logger.warning("slack: thread not shared through Redis: %s", type(error).__name__)

    async def is_bot_thread(
        self, team_id: str, channel: str, thread_ts: str, bot_user_id: str | None
    ) -> bool:
        """Known here, known to another worker (Redis), or the thread shows the bot
        (its reply, or a mention in the first message): then it is the bot's."""
        key = self._thread_key(team_id, channel, thread_ts)
        if key in self._threads:
            return True
        if await self._shared(key):
            self._threads.add(key)
            return True
        if not bot_user_id or not await self._thread_shows_bot(channel, thread_ts, bot_user_id):
            return False
        await self.remember_thread(team_id, channel, thread_ts)
        return True

    async def _shared(self, key: str) -> bool:
        redis = self.app.kv.redis
        if redis is None:
            return False
        try:
            return bool(await redis.exists(key))
        except RedisError as error:
            logger.warning("slack: thread lookup in Redis failed: %s", type(error).__name__)
            return False

    async def _thread_shows_bot(self, channel: str, thread_ts: str, bot_user_id: str) -> bool:
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
