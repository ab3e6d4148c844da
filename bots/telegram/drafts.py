"""Which answer a streaming draft belongs to, so Telegram's own stop button can stop it.

A draft carries no inline keyboard; when the person stops it Telegram sends a
``stopped_message_generation`` update naming the chat and the ``draft_id``. The worker
that receives it may not be the one streaming, so the mapping is kept in the shared
flags every worker sees (the port falls back to this process while Redis is down)."""

from __future__ import annotations

from core.ports import SharedFlags

DRAFT_TTL_S = 900  # far longer than any answer streams


class DraftRegistry:
    def __init__(self, flags: SharedFlags) -> None:
        self._flags = flags

    @staticmethod
    def _key(chat_id: int, draft_id: int) -> str:
        return f"draft:{chat_id}:{draft_id}"

    async def remember(self, chat_id: int, draft_id: int, request_id: str) -> None:
        await self._flags.put(self._key(chat_id, draft_id), request_id, DRAFT_TTL_S)

    async def lookup(self, chat_id: int, draft_id: int) -> str | None:
        return await self._flags.get(self._key(chat_id, draft_id))
