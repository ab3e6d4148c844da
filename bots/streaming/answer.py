"""The one way a chat adapter streams an admitted answer: outcome note, relay, errors.

Every chat platform runs ``stream_reply``: the events of a ``ChatReply`` get the
"(stopped)" / "(cut)" note on their final text, go through the relay into the platform's
sink, and the reply is closed (settled) whatever happens. A core error that ends the
answer after admission (the upstream failed before any text) is told to the person through
the same sink, in their language, and nothing is charged for it (the core refunds)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bots.streaming.pacing import Pacer
from bots.streaming.relay import RelayResult, notice_text, relay
from bots.streaming.sink import MessageSink
from core.errors import CoreError
from core.i18n import Translator
from core.money import format_credits
from core.services.chat_reply import ChatReply
from core.types import Notice, Outcome, ReplyEvent, TextDone

logger = logging.getLogger(__name__)

OUTCOME_NOTES = {Outcome.STOPPED: "reply.stopped", Outcome.CUT: "reply.cut"}


def note_keys(done: TextDone) -> list[str]:
    """The notes an answer ends with: stopped or cut, and shortened because the balance
    (with the overdraft) paid for no more. Every adapter shows these, and only these."""
    keys = [k for k in (OUTCOME_NOTES.get(done.outcome),) if k is not None]
    if done.shortened:
        keys.append("reply.shortened")
    return keys


def with_outcome_note(done: TextDone, t: Translator) -> TextDone:
    """The final text, with its notes (``note_keys``) after it."""
    keys = note_keys(done)
    if not keys:
        return done
    note = "\n".join(t(key) for key in keys)
    text = f"{done.text.rstrip()}\n\n{note}" if done.text.strip() else note
    return TextDone(text, done.credits, done.usage, done.outcome, done.shortened)


def cost_line(t: Translator, credits: int) -> str:
    """The per-answer cost line (``/cost on``), worded as the console's."""
    return t("reply.charged", credits=format_credits(credits))


def with_cost_line(done: TextDone, t: Translator) -> TextDone:
    line = f"_{cost_line(t, done.credits)}_"
    text = f"{done.text.rstrip()}\n\n{line}" if done.text.strip() else line
    return TextDone(text, done.credits, done.usage, done.outcome, done.shortened)


async def noted(
    events: AsyncIterator[ReplyEvent], t: Translator, *before: ReplyEvent, cost: bool = False
) -> AsyncIterator[ReplyEvent]:
    """``before`` (e.g. a transcript header), then the events with the outcome note (and
    the cost line when the person asked for it)."""
    for event in before:
        yield event
    async for event in events:
        if isinstance(event, TextDone):
            event = with_outcome_note(event, t)
            yield with_cost_line(event, t) if cost else event
        elif isinstance(event, Notice) and not event.text:
            # The core's own notes (a trimmed document) carry a key; the words are ours.
            yield Notice(event.key, event.params, t(event.key, **event.params))
        else:
            yield event


@dataclass(slots=True)
class Answered:
    """The answer as the core finished it (no notes, no cost line): what a spoken reply
    reads aloud. Stays None when the answer ended in an error."""

    done: TextDone | None = None


async def _kept(events: AsyncIterator[ReplyEvent], answered: Answered) -> AsyncIterator[ReplyEvent]:
    async for event in events:
        if isinstance(event, TextDone):
            answered.done = event
        yield event


async def one(event: ReplyEvent) -> AsyncIterator[ReplyEvent]:
    yield event


async def stream_reply(
    reply: ChatReply,
    sink: MessageSink,
    pacer: Pacer,
    t: Translator,
    *,
    before: tuple[ReplyEvent, ...] = (),
    render_notice: Callable[[Notice], str] = notice_text,
    answered: Answered | None = None,
) -> RelayResult | None:
    """Relay an admitted reply and settle it; None when a core error ended it, after the
    person was told. Platform errors (``DeliveryFailed``) propagate to the adapter."""
    async with reply:
        try:
            source = _kept(reply.events, answered) if answered is not None else reply.events
            events = noted(source, t, *before, cost=reply.settings.show_cost)
            return await relay(events, sink, pacer, render_notice=render_notice)
        except CoreError as exc:
            logger.info("answer ended by %s", exc.key)
            failure = Notice(exc.key, text=t(exc.key, **exc.params))
            await relay(one(failure), sink, pacer, with_stop=False, render_notice=render_notice)
            return None
