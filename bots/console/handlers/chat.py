"""A plain line, ``/ask``, ``/retry`` or ``/file <path> [question]``: admitted first
(refusals raise before anything is shown), then streamed to the terminal as it is
generated; the reply settles when the block ends. ``/file`` reads a picture or document
from disk (quote a path with spaces: ``/file "my notes.pdf" summarise``), refused by its
size before reading. With ``/voice on`` the answer is also spoken, into a file like
``/tts``."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from bots.console import render
from bots.console.deps import ConsoleDeps
from bots.console.mapping import chat_request, split_path
from bots.files import refusal_before_download
from bots.streaming.answer import Answered
from bots.voice_replies import spoken_answer
from core.errors import BadArgument
from core.i18n import Translator
from core.services.requests import Attachment, ChatRequest
from core.types import Notice, TextDelta, TextDone


async def ask(
    deps: ConsoleDeps, t: Translator, text: str, attachments: tuple[Attachment, ...] = ()
) -> None:
    await _stream(deps, t, chat_request(deps.caller, text, attachments))


async def retry(deps: ConsoleDeps, t: Translator, args: str) -> None:
    """``/retry``: the question whose answer a dead worker interrupted, asked again once."""
    await _stream(deps, t, chat_request(deps.caller, "", retry=True))


async def _stream(deps: ConsoleDeps, t: Translator, request: ChatRequest) -> None:
    reply = await deps.core.chat.start(request)
    answered = Answered()
    async with reply:
        async for event in reply.events:
            if isinstance(event, TextDelta):
                deps.sink.write(event.text)
            elif isinstance(event, Notice):
                deps.sink.line(event.text or t(event.key, **event.params))
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


async def ask_with_file(deps: ConsoleDeps, t: Translator, args: str) -> None:
    raw_path, question = split_path(args)
    path = Path(raw_path)
    size = await asyncio.to_thread(_file_size, path) if raw_path else None
    if size is None:
        raise BadArgument(detail="/file <path> [question]")
    name, mime = path.name, mimetypes.guess_type(path.name)[0]
    refusal = refusal_before_download(name, mime, size, deps.core.config)
    if refusal is not None:
        raise refusal
    data = await asyncio.to_thread(_read, path)
    await ask(deps, t, question, (Attachment(name, data, mime),))


def _file_size(path: Path) -> int | None:
    """The size of a regular file at ``path`` (``~`` expanded), None when there is none."""
    try:
        return path.expanduser().stat().st_size if path.expanduser().is_file() else None
    except OSError:
        return None


def _read(path: Path) -> bytes:
    return path.expanduser().read_bytes()
