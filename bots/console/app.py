"""The console application: the read-a-line loop and its handlers, registered explicitly.

A plain line goes to the text handler, ``/name`` to the handler registered for ``name``,
and any other command to the shared command set. Core errors become one line each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bots.console.deps import ConsoleDeps
from bots.console.errors import describe
from bots.console.handlers import chat, commands, media
from bots.console.mapping import split_command
from bots.language import translator
from core.errors import CoreError
from core.i18n import Translator

Handler = Callable[[ConsoleDeps, Translator, str], Awaitable[None]]

QUIT = {"quit", "exit", "q"}


class ConsoleApp:
    def __init__(self, deps: ConsoleDeps, on_text: Handler) -> None:
        self.deps = deps
        self._on_text = on_text
        self._commands: dict[str, Handler] = {}

    def command(self, name: str, handler: Handler) -> None:
        self._commands[name] = handler

    async def handle(self, line: str) -> None:
        t = await translator(self.deps.core, self.deps.caller)
        try:
            parsed = split_command(line)
            if parsed is None:
                await self._on_text(self.deps, t, line)
                return
            name, args = parsed
            handler = self._commands.get(name)
            if handler is not None:
                await handler(self.deps, t, args)
            else:
                await commands.shared(self.deps, t, name, args)
        except CoreError as exc:
            self.deps.sink.line(describe(t, exc))

    async def run(self, read_line: Callable[[str], str]) -> None:
        """Greet, then handle lines until EOF or ``/quit``."""
        await self.handle("/start")
        self.deps.sink.line("(/quit to leave)")
        while True:
            try:
                line = (await asyncio.to_thread(read_line, "> ")).strip()
            except EOFError:
                self.deps.sink.line("")
                return
            if line.lower().lstrip("/") in QUIT:
                return
            if line:
                await self.handle(line)


def build_app(deps: ConsoleDeps) -> ConsoleApp:
    app = ConsoleApp(deps, on_text=chat.ask)
    app.command("ask", chat.ask)
    app.command("file", chat.ask_with_file)
    app.command("retry", chat.retry)
    app.command("image", media.image)
    app.command("tts", media.tts)
    return app
