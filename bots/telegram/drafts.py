"""Which answer a streaming draft belongs to, so Telegram's own stop button can stop it.

A draft carries no inline keyboard; when the person stops it Telegram sends a
``stopped_message_generation`` update naming the chat and the ``draft_id``. The worker
that receives it may not be the one streaming, so the mapping lives in Redis when there
is one (in this process otherwise)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from bots.telegram.sink import TelegramSink

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

DRAFT_TTL_S = 900  # far longer than any answer streams
_MEMORY_MAX = 10_000


class DraftRegistry:
    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._local: dict[str, tuple[float, str]] = {}

    def _key(self, chat_id: int, draft_id: int) -> str:
        return f"{self._prefix}{chat_id}:{draft_id}"

    async def remember(self, chat_id: int, draft_id: int, request_id: str) -> None:
        key = self._key(chat_id, draft_id)
        if self._redis is not None:
            try:
                await self._redis.set(key, request_id, ex=DRAFT_TTL_S)
                return
            except RedisError as exc:
                logger.warning("draft registry: Redis unavailable (%s); keeping it local", exc)
        if len(self._local) >= _MEMORY_MAX:
            self._prune()
        self._local[key] = (time.monotonic() + DRAFT_TTL_S, request_id)

    async def lookup(self, chat_id: int, draft_id: int) -> str | None:
        key = self._key(chat_id, draft_id)
        if self._redis is not None:
            try:
                found = await self._redis.get(key)
                if found is not None:
                    return found.decode() if isinstance(found, bytes) else str(found)
            except RedisError as exc:
                logger.warning("draft registry: Redis unavailable (%s)", exc)
        expires, request_id = self._local.get(key, (0.0, ""))
        return request_id if expires > time.monotonic() else None

    def _prune(self) -> None:
        now = time.monotonic()
        self._local = {k: v for k, v in self._local.items() if v[0] > now}
        while len(self._local) >= _MEMORY_MAX:
            self._local.pop(next(iter(self._local)))


class TrackedSink(TelegramSink):
    """A ``TelegramSink`` that records each draft it streams in the registry."""

    def __init__(self, *args: Any, registry: DraftRegistry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._registry = registry
        self._chat = int(args[1] if len(args) > 1 else kwargs["chat_id"])
        self._recorded: int | None = None

    async def preview(self, text: str, *, with_stop: bool) -> None:
        draft = self.draft_id
        if draft != self._recorded:
            await self._registry.remember(self._chat, draft, self._request_id)
            self._recorded = draft
        await super().preview(text, with_stop=with_stop)
