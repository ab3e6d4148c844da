"""A plain line, ``/ask`` or ``/retry``: admitted first (refusals raise before anything is shown),
then streamed to the terminal as it is generated; the reply settles when the block ends."""

from __future__ import annotations

from bots.console import render
from bots.console.deps import ConsoleDeps
from bots.console.mapping import chat_request
from core.i18n import Translator
from core.services.requests import ChatRequest
from core.types import TextDelta, TextDone


async def ask(deps: ConsoleDeps, t: Translator, text: str) -> None:
    await _stream(deps, t, chat_request(deps.caller, text))


async def retry(deps: ConsoleDeps, t: Translator, args: str) -> None:
    """``/retry``: the question whose answer a dead worker interrupted, asked again once."""
    await _stream(deps, t, chat_request(deps.caller, "", retry=True))


async def _stream(deps: ConsoleDeps, t: Translator, request: ChatRequest) -> None:
    reply = await deps.core.chat.start(request)
    async with reply:
        async for event in reply.events:
            if isinstance(event, TextDelta):
                deps.sink.write(event.text)
            elif isinstance(event, TextDone):
                deps.sink.write("\n")
                for line in render.after_answer(t, event):
                    deps.sink.line(line)
