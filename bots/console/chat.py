"""The console loop: read a line, run a command or stream an answer, repeat until EOF."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path
from typing import TextIO

from bots.commands import CommandContext, run_command, translator_for
from bots.console.errors import describe
from bots.console.mapping import CHAT_ID, console_caller, split_command
from bots.console.render import ConsoleRenderer
from core.errors import CoreError
from core.i18n import Translator
from core.services import Core
from core.services.requests import Caller, ChatRequest, ImageRequest, SpeechRequest

QUIT = {"quit", "exit", "q"}


async def run_console(
    core: Core,
    *,
    read_line: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
    media_dir: Path = Path("data") / "media",
    caller: Caller | None = None,
) -> None:
    caller = caller or console_caller()
    renderer = ConsoleRenderer(out, media_dir)
    await _handle(core, caller, renderer, "/start")
    renderer.line("(/quit to leave)")
    while True:
        try:
            line = (await asyncio.to_thread(read_line, "> ")).strip()
        except EOFError:
            renderer.line("")
            return
        if line.lower().lstrip("/") in QUIT:
            return
        if line:
            await _handle(core, caller, renderer, line)


async def _handle(core: Core, caller: Caller, renderer: ConsoleRenderer, line: str) -> None:
    t = Translator(caller.locale)
    try:
        t = await translator_for(core, caller)
        command = split_command(line)
        if command is None:
            await _chat(core, caller, renderer, t, line)
            return
        name, args = command
        if name == "image":
            image = await core.media.image(
                ImageRequest(caller=caller, chat_id=CHAT_ID, prompt=args)
            )
            renderer.save(t, image, f"image-{_stamp()}")
        elif name == "tts":
            audio = await core.media.speech(
                SpeechRequest(caller=caller, chat_id=CHAT_ID, text=args)
            )
            renderer.save(t, audio, f"speech-{_stamp()}")
        elif name == "ask":
            await _chat(core, caller, renderer, t, args)
        else:
            reply = await run_command(CommandContext(core, caller, CHAT_ID), name, args)
            renderer.line(reply.text if reply else t("cmd.help"))
    except CoreError as exc:
        renderer.line(describe(t, exc))


async def _chat(
    core: Core, caller: Caller, renderer: ConsoleRenderer, t: Translator, text: str
) -> None:
    request = ChatRequest(caller=caller, chat_id=CHAT_ID, text=text)
    async with aclosing(core.chat.ask(request)) as events:
        async for event in events:
            renderer.event(t, event)


def _stamp() -> str:
    from datetime import datetime

    return datetime.now().strftime("%Y%m%d-%H%M%S-%f")
