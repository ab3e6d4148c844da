"""A plain line or ``/ask``: admitted first (refusals raise before anything is shown),
then streamed to the terminal as it is generated; the reply settles when the block ends."""

from __future__ import annotations

from bots.console import render
from bots.console.deps import ConsoleDeps
from bots.console.mapping import chat_request
from core.i18n import Translator
from core.types import TextDelta, TextDone


async def ask(deps: ConsoleDeps, t: Translator, text: str) -> None:
    reply = await deps.core.chat.start(chat_request(deps.caller, text))
    async with reply:
        async for event in reply.events:
            if isinstance(event, TextDelta):
                deps.sink.write(event.text)
            elif isinstance(event, TextDone):
                deps.sink.write("\n")
                for line in render.after_answer(t, event):
                    deps.sink.line(line)
