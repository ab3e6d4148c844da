"""The API's sink: an admitted chat reply as one JSON answer or as Server-Sent Events.

Handlers call ``core.chat.start`` first, so every refusal is an error status; only then is
an ``EventStream`` opened (``prepare`` sends the status line). An error that ends the
answer after that (the upstream failed before any text) can no longer change the status:
it becomes the stream's last event. Leaving ``async with reply`` — normally, or because a
client went away and the handler was cancelled — stops the upstream and settles, charging
only what was produced."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.errors import CoreError
from core.services.chat_reply import ChatReply
from core.types import Notice, TextDelta, TextDone

logger = logging.getLogger(__name__)

OnDelta = Callable[[TextDelta], Awaitable[None]]
OnNotice = Callable[[Notice], Awaitable[None]]


class EventStream:
    """One ``text/event-stream`` response, opened only once the request was admitted."""

    def __init__(self, http: web.Request) -> None:
        self._http = http
        self.response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # proxies: do not buffer the stream
            }
        )
        self.response.enable_chunked_encoding()

    async def open(self) -> None:
        await self.response.prepare(self._http)

    async def write(self, data: bytes) -> None:
        await self.response.write(data)

    async def close(self) -> web.StreamResponse:
        await self.response.write_eof()
        return self.response


async def whole(reply: ChatReply, notices: list[Notice] | None = None) -> TextDone:
    """The whole answer at once (core errors propagate: nothing was sent yet); the core's
    notes on the way (a trimmed document) are collected in ``notices`` when given."""
    async for event in reply.events:
        if isinstance(event, TextDone):
            return event
        if isinstance(event, Notice) and notices is not None:
            notices.append(event)
    raise RuntimeError("the chat stream ended without TextDone")


async def relay(
    reply: ChatReply,
    stream: EventStream,
    on_delta: OnDelta,
    on_error: Callable[[CoreError], bytes],
    on_notice: OnNotice | None = None,
) -> TextDone | None:
    """Deltas to ``on_delta`` (and the core's notes to ``on_notice``), then the final
    ``TextDone``; None when a core error ended the answer, after ``on_error``'s event."""
    try:
        async for event in reply.events:
            if isinstance(event, TextDone):
                return event
            if isinstance(event, TextDelta):
                await on_delta(event)
            elif isinstance(event, Notice) and on_notice is not None:
                await on_notice(event)
    except CoreError as exc:
        logger.info("answer ended by %s after the stream opened", exc.key)
        await stream.write(on_error(exc))
        return None
    raise RuntimeError("the chat stream ended without TextDone")
