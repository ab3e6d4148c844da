"""A plain line or ``/ask``: admitted first (refusals raise before anything is shown),
then streamed to the terminal as it is generated; the reply settles when the block ends.
With ``/voice on`` the answer is also spoken, into a file like ``/tts``."""

from __future__ import annotations

from bots.console import render
from bots.console.deps import ConsoleDeps
from bots.console.mapping import chat_request
from bots.streaming.answer import Answered
from bots.voice_replies import spoken_answer
from core.i18n import Translator
from core.types import TextDelta, TextDone


async def ask(deps: ConsoleDeps, t: Translator, text: str) -> None:
    request = chat_request(deps.caller, text)
    reply = await deps.core.chat.start(request)
    answered = Answered()
    async with reply:
        async for event in reply.events:
            if isinstance(event, TextDelta):
                deps.sink.write(event.text)
            elif isinstance(event, TextDone):
                answered.done = event
                deps.sink.write("\n")
                for line in render.after_answer(t, event):
                    deps.sink.line(line)
    # The terminal takes no voice notes: only "/voice on" speaks here.
    voice = await spoken_answer(deps.core, request, reply, answered, voice_input=False)
    if voice is not None:
        path = deps.sink.save(render.media_file_name("answer", voice), voice.data)
        deps.sink.line(render.saved(t, path, voice.credits))
