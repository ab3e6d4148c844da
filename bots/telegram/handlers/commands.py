"""The text commands shared by every adapter (/start, /balance, /grant, …), by name.

Authorization is the core's business: an admin command from anyone else comes back as
``NotAllowed``, whatever the person's rank in a Telegram group."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, Update

from bots.commands import COMMANDS, CommandContext, run_command
from bots.language import translator
from bots.streaming import Priority
from bots.telegram.deps import TelegramDeps
from bots.telegram.handlers.replies import deliver
from bots.telegram.mapping import conversation_id, event_id, reply_target
from bots.telegram.render import broadcast_keyboard
from core.services.requests import Caller


async def shared_command(
    message: Message,
    command: CommandObject,
    tg: TelegramDeps,
    caller: Caller,
    event_update: Update,
) -> None:
    """A redelivered update raises ``DuplicateEvent``, which the error middleware leaves
    unanswered (the Redis claim in ``UpdateDedupe`` is only the fast path)."""
    context = CommandContext(
        tg.core,
        caller,
        conversation_id(message),
        reply_target(message, tg.bot_id),
        event_id(event_update),
    )
    reply = await run_command(context, command.command, command.args or "")
    if reply is None:
        return
    t = await translator(tg.core, caller)
    await deliver(tg, message, t, reply)
    if reply.confirm_broadcast is not None:
        # The button goes where the preview went (the admin's private chat), paced like
        # every other message there: it follows the preview within the same second.
        chat = int(caller.identity.user_id)
        await tg.pacer.wait_turn(f"tg:{chat}", tg.private_interval_s, Priority.FINAL)
        await message.bot.send_message(  # type: ignore[union-attr]
            chat,
            t("cmd.broadcast_send"),
            reply_markup=broadcast_keyboard(reply.confirm_broadcast, t),
        )


def build() -> Router:
    r = Router(name="telegram.commands")
    r.message.register(shared_command, Command(*COMMANDS))
    return r
