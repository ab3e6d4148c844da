"""What a shared text command gets and gives back, apart from the command table
(bots/commands.py) so that command modules split by feature can share it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.i18n import Translator
from core.services import Core
from core.services.requests import Caller


@dataclass(frozen=True, slots=True)
class CommandContext:
    core: Core
    caller: Caller
    chat_id: str
    # A person the platform pointed at (e.g. the author of the replied-to message).
    reply_target: str | None = None
    # The platform's id for this event (Telegram update, Slack trigger, Discord interaction):
    # recorded with the command's change, so a redelivery changes nothing and gets no reply.
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyFile:
    """A file sent with a command's reply (the /export transcript)."""

    filename: str
    data: bytes
    mime: str = "text/markdown"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    private: bool = False  # ephemeral where the platform has it (balances, accounts)
    image: bytes | None = None  # a PNG to send with the text (the /stats chart)
    file: ReplyFile | None = None  # sent privately (a DM) with the text
    # A broadcast draft's id: platforms with buttons show "Send" under the preview.
    confirm_broadcast: int | None = None


Handler = Callable[[CommandContext, Translator, str], Awaitable[Reply]]


async def seen(ctx: CommandContext) -> None:
    """For commands that change nothing: record the event, so a redelivery is silent."""
    await ctx.core.accounts.note_event(ctx.caller, ctx.event_id)
