"""Every other ``/command``: the shared command set, answered as one line."""

from __future__ import annotations

from bots.commands import CommandContext, run_command
from bots.console.deps import ConsoleDeps
from bots.console.mapping import CHAT_ID
from core.i18n import Translator


async def shared(deps: ConsoleDeps, t: Translator, name: str, args: str) -> None:
    """``/name args`` from ``bots.commands``; a name it does not know gets the help text."""
    reply = await run_command(CommandContext(deps.core, deps.caller, CHAT_ID), name, args)
    deps.sink.line(reply.text if reply else t("cmd.help"))
