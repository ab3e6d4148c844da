"""An admitted chat request, handed to the adapter by ``ChatService.start``.

Every refusal (input, role, limits, credits, a redelivered event) has been raised before
this object exists, so an adapter that holds one has something to stream. The reply owns
the reservation and the rate-limit slot: leaving ``async with reply`` settles the request
(shielded from cancellation) and frees the slot, whether the events were read to the end,
read in part, or never read at all."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from core.services.billing import uncancellable
from core.services.chat_settings import DEFAULT_EFFECTIVE, Effective
from core.types import ReplyEvent


class ChatReply:
    def __init__(
        self,
        request_id: str,
        events: AsyncGenerator[ReplyEvent, None],
        settle: Callable[[], Awaitable[object]],
        admission: AsyncExitStack,
        settings: Effective = DEFAULT_EFFECTIVE,
    ) -> None:
        self.request_id = request_id
        # The person's settings it was answered with: the adapter reads ``show_cost`` and
        # ``speaks`` to add the cost line and the spoken answer.
        self.settings = settings
        self._events = events
        self._settle = settle
        self._admission = admission
        self._closed = False

    @property
    def events(self) -> AsyncGenerator[ReplyEvent, None]:
        """Deltas, then one ``TextDone`` (or the error that ended the answer)."""
        return self._events

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the upstream if it still runs, settle, free the slot; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            # One uncancellable step: a cancellation that lands while the upstream is being
            # stopped (a client that vanished mid-stream) must not skip the settlement.
            await uncancellable(self._stop_and_settle())
        finally:
            await uncancellable(self._admission.aclose())

    async def _stop_and_settle(self) -> None:
        try:
            await self._events.aclose()
        finally:
            await self._settle()
