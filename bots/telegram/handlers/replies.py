"""How the handlers answer: a streamed chat answer, media, and plain texts, all through
the shared relay so that every call is paced and every 429 is waited out."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.chat_action import ChatActionSender

from bots.commands import Reply, ReplyFile
from bots.streaming import DeliveryFailed, relay
from bots.streaming.answer import Answered, one, stream_reply
from bots.telegram.deps import TelegramDeps, bot_of
from bots.telegram.mapping import conversation_id, is_private, quoted, topic_id
from bots.telegram.render import command_events, stop_label
from bots.telegram.sink import UntilShown
from bots.voice_replies import spoken_answer
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.requests import Attachment, Caller, ChatRequest, new_request_id
from core.types import AudioReady, ImageReady, Notice, ReplyEvent

logger = logging.getLogger(__name__)

TYPING_EVERY_S = 5.0  # Telegram shows a chat action for about five seconds
FILE_ATTEMPTS = 3


def action(message: Message, kind: str) -> ChatActionSender:
    """Keeps "typing…" (or uploading, recording) up while the person waits."""
    return ChatActionSender(
        bot=bot_of(message),
        chat_id=message.chat.id,
        message_thread_id=topic_id(message),
        action=kind,
    )


class Typing:
    """The "typing…" action in the chat of ``message`` until ``end()``. Unlike aiogram's
    ``ChatActionSender`` (used for media) ``end()`` never waits for a chat action still on
    its way: it runs between a pacing turn and the call it was granted for, and a late
    call would break the pacing between workers. The block's exit waits for it."""

    def __init__(self, message: Message, *, shown: bool = False) -> None:
        self._message = message
        self._ended = asyncio.Event()
        if shown:
            self._ended.set()
        self._task: asyncio.Task[None] | None = None

    def end(self) -> None:
        self._ended.set()

    async def __aenter__(self) -> Typing:
        if not self._ended.is_set():
            self._task = asyncio.create_task(self._repeat())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._ended.set()
        if self._task is not None:
            await self._task

    async def _repeat(self) -> None:
        bot, chat = bot_of(self._message), self._message.chat.id
        while not self._ended.is_set():
            try:
                await bot.send_chat_action(
                    chat_id=chat, action="typing", message_thread_id=topic_id(self._message)
                )
            except TelegramAPIError as exc:
                logger.debug("chat action refused: %s", exc)
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(self._ended.wait(), TYPING_EVERY_S)


async def answer(
    tg: TelegramDeps,
    message: Message,
    caller: Caller,
    t: Translator,
    text: str,
    event_id: str,
    *,
    before: tuple[ReplyEvent, ...] = (),
    voice_input: bool = False,
    attachments: tuple[Attachment, ...] = (),
    retry: bool = False,
    retry_of: str | None = None,
) -> None:
    """Admit the question, then stream the answer into the chat. Refusals propagate
    before anything is shown; "typing…" runs until the first text (unless ``before``
    already shows something, e.g. a voice note's transcript). The replied-to message goes
    with the question; a spoken answer follows the text when the person wants one. With
    ``retry`` the question is the interrupted one the core keeps (``ChatRequest.retry``)."""
    request = ChatRequest(
        caller=caller,
        chat_id=conversation_id(message),
        text=text,
        event_id=event_id,
        # A /retry asks the kept question again: what its message replies to is not part.
        quoted=() if retry else quoted(message, tg.bot_id, tg.core.config.quote_depth),
        attachments=attachments,
        retry=retry,
        retry_of=retry_of,
    )
    bind_request_id(request.request_id)
    sink = tg.sink(message, request.request_id, stop_label=stop_label(t))
    answered = Answered()
    async with Typing(message, shown=bool(before)) as typing:
        reply = await tg.core.chat.start(request)
        await stream_reply(
            reply, UntilShown(sink, typing.end), tg.pacer, t, before=before, answered=answered
        )
    if reply.settings.speaks(voice_input):
        async with action(message, "record_voice"):
            voice = await spoken_answer(tg.core, request, reply, answered, voice_input=voice_input)
        if voice is not None:
            await send_media(tg, message, voice)


async def send_media(tg: TelegramDeps, message: Message, item: ImageReady | AudioReady) -> None:
    await relay(one(item), tg.sink(message, new_request_id()), tg.pacer, with_stop=False)


async def say(tg: TelegramDeps, message: Message, text: str) -> None:
    """A plain message from the bot in the chat of ``message``, replying to it."""
    sink = tg.sink(message, new_request_id())
    await relay(one(Notice("", text=text)), sink, tg.pacer, with_stop=False)


async def deliver(tg: TelegramDeps, message: Message, t: Translator, reply: Reply) -> None:
    """A command's reply; a private one asked for in a group goes to the person's DM, and
    so does its file (the /export transcript)."""
    if not reply.private or is_private(message) or message.from_user is None:
        sink = tg.sink(message, new_request_id())
        await relay(command_events(reply), sink, tg.pacer, with_stop=False)
        if reply.file is not None:
            await _send_file(message, message.chat.id, reply.file)
        return
    direct = tg.direct_sink(bot_of(message), message.from_user.id, new_request_id())
    try:
        await relay(command_events(reply), direct, tg.pacer, with_stop=False)
        if reply.file is not None:
            await _send_file(message, message.from_user.id, reply.file)
    except (DeliveryFailed, TelegramAPIError) as exc:
        logger.info("could not write privately to a group member: %s", exc)
        await say(tg, message, t("telegram.dm_failed"))
        return
    await say(tg, message, t("telegram.dm_sent"))


async def _send_file(message: Message, chat_id: int, file: ReplyFile) -> None:
    """Sent right after the text, outside the relay: a flood 429 is waited out in full
    (the text before it has just used the chat's budget)."""
    document = BufferedInputFile(file.data, filename=file.filename)
    for attempt in range(FILE_ATTEMPTS):
        try:
            await bot_of(message).send_document(chat_id=chat_id, document=document)
            return
        except TelegramRetryAfter as exc:
            if attempt == FILE_ATTEMPTS - 1:
                raise
            await asyncio.sleep(exc.retry_after)
