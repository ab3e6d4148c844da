"""An admitted chat request, handed to the adapter by ``ChatService.start`` (and, with
the upstream's own objects for events, by ``ChatGatewayService.start``).

Every refusal (input, role, limits, credits, a redelivered event) has been raised before
this object exists, so an adapter that holds one has something to stream. The reply owns
the reservation and the rate-limit slot: leaving ``async with reply`` settles the request
(shielded from cancellation) and frees the slot, whether the events were read to the end,
read in part, or never read at all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Generic, Self, TypeVar

from core.errors import CoreError
from core.services.billing import uncancellable
from core.services.chat_settings import DEFAULT_EFFECTIVE, Effective
from core.types import ReplyEvent

logger = logging.getLogger(__name__)
E = TypeVar("E", covariant=True)  # a reply reads events out only
R = TypeVar("R", bound="Reply[object]")


class Reply(Generic[E]):
    def __init__(
        self,
        request_id: str,
        events: AsyncGenerator[E, None],
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
    def events(self) -> AsyncGenerator[E, None]:
        """Chat: deltas, then one ``TextDone`` (or the error that ended the answer)."""
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


class ChatReply(Reply[ReplyEvent]):
    """A chat answer: ``TextDelta``s, then one ``TextDone``."""


async def admit_to_the_end(admission: Coroutine[object, object, R]) -> R:
    """Run an admission to its end even when the caller is cancelled meanwhile: cancelled
    after its transaction reserved the credits but before the reply existed, nobody would
    own the hold until the sweep. A reply admitted for a caller already gone is closed at
    once (the model was never asked: the hold is refunded, the slot freed) and the
    cancellation goes on."""
    task = asyncio.ensure_future(admission)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await uncancellable(_close_when_admitted(task))
        raise


async def _close_when_admitted(admission: asyncio.Future[R]) -> None:
    try:
        reply = await admission
    except CoreError as exc:  # refused: nothing was reserved, and nobody is left to tell
        logger.info("caller left before its refusal (%s)", exc.key)
        return
    logger.info("caller left during admission: request %s closed unread", reply.request_id)
    await reply.aclose()
