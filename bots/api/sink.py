"""Running one chat request for HTTP: errors before any output become an error status;
after that the answer streams. Leaving the ``aclosing`` block — the client went away and
the handler was cancelled — closes the core's generator, which stops the upstream and
charges only what was produced."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing

from aiohttp import web

from core.services import Core
from core.services.requests import ChatRequest
from core.types import ReplyEvent, TextDelta, TextDone

OnDelta = Callable[[TextDelta], Awaitable[None]]


async def answer(core: Core, request: ChatRequest) -> TextDone:
    """The whole answer at once."""
    async with aclosing(core.chat.ask(request)) as events:
        async for event in events:
            if isinstance(event, TextDone):
                return event
    raise RuntimeError("the chat stream ended without TextDone")


async def stream(
    core: Core,
    request: ChatRequest,
    http: web.Request,
    response: web.StreamResponse,
    on_delta: OnDelta,
) -> TextDone:
    """Prepare ``response`` only once the first event is there (errors came before)."""
    async with aclosing(core.chat.ask(request)) as events:
        first = await anext(aiter(events))
        await response.prepare(http)
        return await _relay(first, events, on_delta)


async def _relay(first: ReplyEvent, rest: AsyncIterator[ReplyEvent], on_delta: OnDelta) -> TextDone:
    event = first
    while True:
        if isinstance(event, TextDone):
            return event
        if isinstance(event, TextDelta):
            await on_delta(event)
        event = await anext(rest)


def sse_response() -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # proxies: do not buffer the stream
        }
    )
    response.enable_chunked_encoding()
    return response
