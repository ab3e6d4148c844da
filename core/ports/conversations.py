"""What was said and what it cost: conversations, usage events and processed platform events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.types import (
    ConversationKey,
    Exchange,
    StatsDimension,
    StatsRow,
    StoredMessage,
    UsageEvent,
)


class ConversationRepository(Protocol):
    async def append(self, conversation: ConversationKey, *messages: StoredMessage) -> None:
        """Add messages in order (one statement for all of them)."""
        ...

    async def window(self, conversation: ConversationKey, limit: int) -> list[StoredMessage]:
        """The last ``limit`` messages since the last reset, oldest first."""
        ...

    async def reset(self, conversation: ConversationKey) -> None: ...

    async def leave_out(self, conversation: ConversationKey, request_id: str) -> None:
        """Take one exchange (the messages of ``request_id``) out of the context window,
        as a regenerated answer replaces it; /history and /export still show it."""
        ...

    async def latest_chat(self, conversation: ConversationKey) -> str | None:
        """The chat id (``conversation.chat_id`` itself or one of its threads ``<chat_id>:…``)
        where the account's newest message still in a context window was said; None when
        there is none. A Slack /retry opens a new thread: this finds the exchange it redoes."""
        ...

    async def transcript(self, conversation: ConversationKey, limit: int) -> list[StoredMessage]:
        """The last ``limit`` messages of the conversation, reset or not, oldest first,
        with those of its threads (chat ids ``<chat_id>:…``: Slack threads, forum topics)."""
        ...

    async def history(self, account_id: int, limit: int) -> list[Exchange]:
        """The last ``limit`` question/answer pairs of the account, newest first."""
        ...

    async def move_account(self, from_account: int, to_account: int) -> None: ...

    async def questions_since(self, since: datetime, limit: int) -> list[str]:
        """The newest ``limit`` questions people asked since ``since`` (any account), for
        the admin console's popular topics."""
        ...


class UsageRepository(Protocol):
    async def record(self, event: UsageEvent) -> None: ...

    async def recent(self, account_id: int, limit: int) -> list[UsageEvent]: ...

    async def stats(
        self, since: datetime, dimension: StatsDimension, account_id: int | None = None
    ) -> list[StatsRow]: ...

    async def last_activity(self, account_ids: Sequence[int]) -> dict[int, datetime]:
        """When each account last made a request (accounts with none are left out)."""
        ...

    async def move_account(self, from_account: int, to_account: int) -> None: ...


class EventRepository(Protocol):
    async def record(self, platform: str, event_id: str, request_id: str | None = None) -> bool:
        """Record a platform event id and the request it started; False when it was
        recorded before (unique key)."""
        ...

    async def abandon(self, request_id: str) -> None:
        """Mark the event that started ``request_id`` as never answered (its worker died
        and its hold was refunded), so that one redelivery of it may be processed."""
        ...

    async def is_abandoned(self, platform: str, event_id: str) -> bool:
        """True while the event is marked abandoned and not reclaimed yet."""
        ...

    async def reclaim(self, platform: str, event_id: str, request_id: str) -> bool:
        """Take an abandoned event for a new request: True for exactly one caller (one
        guarded UPDATE), False when the event was answered or reclaimed already."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget the event ids recorded before ``before``; returns how many. A redelivery
        comes within minutes, so records older than the retention period only take space."""
        ...
