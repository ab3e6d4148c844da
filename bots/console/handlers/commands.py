"""Every other ``/command``: the shared command set, answered as one line (a file it
sends, the /export transcript, is saved next to the media and its path shown)."""

from __future__ import annotations

from bots.commands import CommandContext, run_command
from bots.console.deps import ConsoleDeps
from bots.console.mapping import CHAT_ID
from core.i18n import Translator


async def shared(deps: ConsoleDeps, t: Translator, name: str, args: str) -> None:
    """``/name args`` from ``bots.commands``; a name it does not know gets the help text."""
    reply = await run_command(CommandContext(deps.core, deps.caller, CHAT_ID), name, args)
    deps.sink.line(reply.text if reply else t("cmd.help"))
    if reply is not None and reply.file is not None:
        deps.sink.line(f"→ {deps.sink.save(reply.file.filename, reply.file.data)}")
