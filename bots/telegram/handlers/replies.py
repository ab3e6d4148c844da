"""How the handlers answer: a streamed chat answer, media, and plain texts, all through
the shared relay so that every call is paced and every 429 is waited out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender

from bots.commands import Reply
from bots.streaming import DeliveryFailed, relay
from bots.telegram.deps import TelegramDeps
from bots.telegram.mapping import chat_key, is_private, topic_id
from bots.telegram.sink import TelegramSink
from core.i18n import Translator
from core.services.requests import Caller, ChatRequest, new_request_id
from core.types import AudioReady, ImageReady, Notice, Outcome, ReplyEvent, TextDone

logger = logging.getLogger(__name__)

_MARKS = {Outcome.STOPPED: "reply.stopped", Outcome.CUT: "reply.cut"}


def action(message: Message, kind: str) -> ChatActionSender:
    """Keeps "typing…" (or uploading, recording) up while the person waits."""
    bot: Bot = message.bot  # type: ignore[assignment]
    return ChatActionSender(
        bot=bot, chat_id=message.chat.id, message_thread_id=topic_id(message), action=kind
    )


def stop_label(t: Translator) -> str:
    return "⏹ " + t("reply.stop_button")


async def _marked(
    events: AsyncIterator[ReplyEvent], t: Translator, *before: ReplyEvent
) -> AsyncIterator[ReplyEvent]:
    """The events, with a note at the end of an answer that was stopped or cut."""
    for event in before:
        yield event
    async for event in events:
        if isinstance(event, TextDone) and event.outcome in _MARKS:
            note = t(_MARKS[event.outcome])
            text = f"{event.text.rstrip()}\n\n{note}" if event.text.strip() else note
            event = TextDone(text, event.credits, event.usage, event.outcome)
        yield event


async def stream_answer(
    tg: TelegramDeps,
    message: Message,
    caller: Caller,
    t: Translator,
    text: str,
    event_id: str,
    *,
    before: tuple[ReplyEvent, ...] = (),
) -> None:
    """Ask the core and stream its answer into the chat. Core errors propagate."""
    request = ChatRequest(caller=caller, chat_id=chat_key(message), text=text, event_id=event_id)
    sink = tg.sink(message, request.request_id, stop_label=stop_label(t))
    async with aclosing(tg.core.chat.ask(request)) as events:
        if not before:
            # Refusals (credits, limits, duplicates) come before any output: nothing is shown.
            async with action(message, "typing"):
                before = (await anext(events),)
        await relay(_marked(events, t, *before), sink, tg.pacer)


async def _one(item: ReplyEvent) -> AsyncIterator[ReplyEvent]:
    yield item


async def _reply_events(reply: Reply) -> AsyncIterator[ReplyEvent]:
    """A command's reply as events: its text, then its chart if it has one."""
    yield Notice("", text=reply.text)
    if reply.image is not None:
        yield ImageReady(data=reply.image, mime="image/png", prompt="", credits=0)


async def send_media(tg: TelegramDeps, message: Message, item: ImageReady | AudioReady) -> None:
    await relay(_one(item), tg.sink(message, new_request_id()), tg.pacer, with_stop=False)


async def say(tg: TelegramDeps, message: Message, text: str) -> None:
    """A plain message from the bot in the chat of ``message``, replying to it."""
    sink = tg.sink(message, new_request_id())
    await relay(_one(Notice("", text=text)), sink, tg.pacer, with_stop=False)


async def deliver(tg: TelegramDeps, message: Message, t: Translator, reply: Reply) -> None:
    """A command's reply; a private one asked for in a group goes to the person's DM."""
    if not reply.private or is_private(message) or message.from_user is None:
        sink = tg.sink(message, new_request_id())
        await relay(_reply_events(reply), sink, tg.pacer, with_stop=False)
        return
    bot: Bot = message.bot  # type: ignore[assignment]
    direct = TelegramSink(
        bot, message.from_user.id, request_id=new_request_id(), private=True, drafts=False
    )
    try:
        await relay(_reply_events(reply), direct, tg.pacer, with_stop=False)
    except (DeliveryFailed, TelegramAPIError) as exc:
        logger.info("could not write privately to a group member: %s", exc)
        await say(tg, message, t("telegram.dm_failed"))
        return
    await say(tg, message, t("telegram.dm_sent"))
