"""One paid request from start to finish, the same for slash commands and messages: call the
use case, deliver what it produces through the relay, report a failure in one place.

A core error is raised before any output, so it is shown as an error and nothing was
charged; a duplicate event (a redelivered interaction or message) gets no answer at all.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import TYPE_CHECKING, Protocol

from bots.discord.errors import message_for
from bots.streaming import DeliveryFailed, MessageSink, relay
from core.errors import CoreError, DuplicateEvent
from core.i18n import Translator
from core.services.requests import ChatRequest, TranscriptionRequest
from core.types import Notice, Outcome, ReplyEvent, TextDone

if TYPE_CHECKING:
    from bots.discord.app import SwitchboardBot

logger = logging.getLogger(__name__)

Report = Callable[[str], Awaitable[None]]
_OUTCOME_NOTES = {Outcome.STOPPED: "reply.stopped", Outcome.CUT: "reply.cut"}


class ClosableSink(MessageSink, Protocol):
    def close(self) -> None: ...


async def _events(
    first: Iterable[ReplyEvent], rest: AsyncIterator[ReplyEvent], t: Translator
) -> AsyncIterator[ReplyEvent]:
    async def everything() -> AsyncIterator[ReplyEvent]:
        for event in first:
            yield event
        async for event in rest:
            yield event

    async for event in everything():
        yield event
        if isinstance(event, TextDone) and event.outcome in _OUTCOME_NOTES:
            key = _OUTCOME_NOTES[event.outcome]
            yield Notice(key=key, text=t(key))


async def deliver(
    bot: SwitchboardBot, events: AsyncIterator[ReplyEvent], sink: ClosableSink, *, with_stop: bool
) -> None:
    try:
        await relay(events, sink, bot.pacer, with_stop=with_stop)
    except DeliveryFailed as error:
        logger.warning("%s: answer not delivered: %s", sink.limits.chat_key, error)
    finally:
        sink.close()


async def chat(
    bot: SwitchboardBot,
    request: ChatRequest,
    sink: ClosableSink,
    report: Report,
    t: Translator,
    *,
    before: Iterable[ReplyEvent] = (),
) -> None:
    """Stream the answer to ``request``; ``before`` goes first (e.g. a transcript)."""
    who = str(request.caller.identity)
    async with aclosing(bot.app.core.chat.ask(request)) as stream:
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            return
        except DuplicateEvent:
            logger.info("event %s already answered", request.event_id)
            return
        except CoreError as exc:
            await report(message_for(t, exc, "chat", who))
            return
        try:
            await deliver(bot, _events([*before, first], stream, t), sink, with_stop=True)
        except CoreError as exc:
            await report(message_for(t, exc, "chat", who))


async def paid(
    bot: SwitchboardBot,
    call: Callable[[], Awaitable[ReplyEvent]],
    sink: ClosableSink,
    report: Report,
    t: Translator,
    what: str,
    who: str,
) -> ReplyEvent | None:
    """One media request (image, speech, transcript): its result delivered, or the error
    reported. Returns the result (None after a failure or a duplicate)."""
    try:
        item = await call()
    except DuplicateEvent:
        logger.info("%s for %s already answered", what, who)
        return None
    except CoreError as exc:
        await report(message_for(t, exc, what, who))
        return None
    await deliver(bot, single(item), sink, with_stop=False)
    return item


async def single(item: ReplyEvent) -> AsyncIterator[ReplyEvent]:
    yield item


async def transcribe(
    bot: SwitchboardBot, request: TranscriptionRequest, report: Report, t: Translator
) -> str | None:
    """The transcript of ``request`` (None after a failure, reported, or a duplicate)."""
    try:
        transcript, _cost = await bot.app.core.media.transcribe(request)
    except DuplicateEvent:
        logger.info("event %s already answered", request.event_id)
        return None
    except CoreError as exc:
        await report(message_for(t, exc, "transcription", str(request.caller.identity)))
        return None
    return transcript.text
