"""When may the next call for a chat go: the ``Pacer`` port of the relay.

A pacer enforces a minimum interval per chat and a global rate per bot, serves finals
and first visible text before interim edits, and shares what is left fairly among chats.
After a 429 (``penalize``) the chat gets no call before ``retry_after`` ends and is paced
more slowly for a while. Implementations live in ``storage.pacing``: ``MemoryPacer``
(one process) and ``RedisPacer`` (budgets shared by every worker; the priority ordering
is local to each process).
"""

from __future__ import annotations

from typing import Protocol

from storage.pacing import MemoryPacer, Priority, RedisPacer

__all__ = ["MemoryPacer", "Pacer", "Priority", "RedisPacer"]


class Pacer(Protocol):
    async def wait_turn(self, chat_key: str, interval_s: float, priority: Priority) -> None:
        """Return when one call for ``chat_key`` may go; the budget is then taken."""
        ...

    async def penalize(self, chat_key: str, retry_after_s: float) -> None:
        """The platform answered 429 for this chat: block it, then pace it slower."""
        ...
