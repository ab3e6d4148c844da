"""A paid request from admission to delivery, the same for slash commands and messages.

The use case is awaited first: a refusal (input, role, limits, credits) is raised there,
shown as an error, and nothing is charged; a duplicate event (a redelivered interaction or
message) gets no answer at all. An admitted chat reply is then streamed by the shared
``stream_reply``; an image, speech or transcript is delivered through the same relay."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from bots.discord.deps import Deps
from bots.discord.errors import message_for
from bots.streaming import DeliveryFailed, MessageSink, relay
from bots.streaming.answer import Answered, one, stream_reply
from bots.voice_replies import spoken_answer
from core.errors import AccessBlocked, CoreError, DuplicateEvent
from core.i18n import Translator
from core.services.requests import ChatRequest, TranscriptionRequest
from core.types import ReplyEvent

logger = logging.getLogger(__name__)

Report = Callable[[str], Awaitable[None]]


class ClosableSink(MessageSink, Protocol):
    def close(self) -> None: ...


async def chat(
    deps: Deps,
    request: ChatRequest,
    sink: ClosableSink,
    report: Report,
    t: Translator,
    *,
    before: tuple[ReplyEvent, ...] = (),
    voice_input: bool = False,
) -> None:
    """Admit ``request``, then stream its answer; ``before`` goes first (e.g. a transcript).
    A spoken answer (``/voice``) follows as an audio file."""
    try:
        reply = await deps.core.chat.start(request)
    except DuplicateEvent:
        logger.info("event %s already answered", request.event_id)
        return
    except AccessBlocked as exc:
        if not exc.quiet:  # in a server channel a blocked person is not answered at all
            await report(message_for(t, exc, "chat", str(request.caller.identity)))
        return
    except CoreError as exc:
        await report(message_for(t, exc, "chat", str(request.caller.identity)))
        return
    answered = Answered()
    try:
        await stream_reply(reply, sink, deps.pacer, t, before=before, answered=answered)
        voice = await spoken_answer(deps.core, request, reply, answered, voice_input=voice_input)
        if voice is not None:
            await relay(one(voice), sink, deps.pacer, with_stop=False)
    except CoreError as exc:  # the spoken answer refused (credits, role): the text stands
        await report(message_for(t, exc, "speech", str(request.caller.identity)))
    except DeliveryFailed as error:
        logger.warning("%s: answer not delivered: %s", sink.limits.chat_key, error)
    finally:
        sink.close()


async def deliver(deps: Deps, events: AsyncIterator[ReplyEvent], sink: ClosableSink) -> None:
    """A finished result (no Stop button: there is nothing left to stop)."""
    try:
        await relay(events, sink, deps.pacer, with_stop=False)
    except DeliveryFailed as error:
        logger.warning("%s: answer not delivered: %s", sink.limits.chat_key, error)
    finally:
        sink.close()


async def media(
    call: Callable[[], Awaitable[ReplyEvent]], report: Report, t: Translator, what: str, who: str
) -> ReplyEvent | None:
    """One media use case (image, speech): its result, or None after a duplicate or a
    refusal (reported)."""
    try:
        return await call()
    except DuplicateEvent:
        logger.info("%s for %s already answered", what, who)
    except CoreError as exc:
        await report(message_for(t, exc, what, who))
    return None


async def transcribe(
    deps: Deps, request: TranscriptionRequest, report: Report, t: Translator
) -> str | None:
    """The transcript of ``request`` (None after a refusal, reported, or a duplicate)."""
    try:
        transcript, _cost = await deps.core.media.transcribe(request)
    except DuplicateEvent:
        logger.info("event %s already answered", request.event_id)
        return None
    except CoreError as exc:
        await report(message_for(t, exc, "transcription", str(request.caller.identity)))
        return None
    return transcript.text
