"""The relay: one reply's events in, paced platform calls out, the same for every platform.

A reader task collects the events as fast as they come; the writer wakes when there is
something new, waits for the pacer, and then sends only the newest text. So the pace is
set by time, never by tokens, and a slow platform only means fewer, larger updates.
If the event stream fails, what was produced is still finalized, then the error is
raised again for the adapter to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from bots.metrics import process_metrics
from bots.streaming.pacing import Pacer, Priority
from bots.streaming.sink import DeliveryFailed, MessageHandle, MessageSink, PlatformRetryAfter
from bots.streaming.split import split_text
from bots.streaming.text import MAX_FINAL_ATTEMPTS, Stats, TextState, TextStreamer
from core.services.tasks import cancel_and_wait
from core.types import AudioReady, ImageReady, Notice, Outcome, ReplyEvent, TextDelta, TextDone

logger = logging.getLogger(__name__)

_Item = TextState | ImageReady | AudioReady | Notice


@dataclass
class RelayResult:
    text: str = ""  # the whole answer as delivered
    outcome: Outcome | None = None
    messages: list[MessageHandle] = field(default_factory=list)
    calls: int = 0  # platform calls that went through
    retry_afters: int = 0  # 429s received (each waited out in full)
    lost_updates: int = 0
    first_visible_delay_s: float | None = None  # first text produced -> first call done


def notice_text(notice: Notice) -> str:
    return notice.text or notice.key


class _Inbox:
    """What the reader has collected, in order; the writer consumes it."""

    def __init__(self) -> None:
        self.items: list[_Item] = []
        self.closed = False
        self.error: BaseException | None = None
        self.changed = asyncio.Event()
        self._open: TextState | None = None

    def _text(self) -> TextState:
        if self._open is None:
            self._open = TextState(first_text_at=time.monotonic())
            self.items.append(self._open)
        return self._open

    def add(self, event: ReplyEvent) -> None:
        if isinstance(event, TextDelta):
            self._text().full = event.full
        elif isinstance(event, TextDone):
            state = self._text()
            state.full, state.done, state.outcome = event.text, True, event.outcome
            self._open = None
        else:
            self.close_text()
            self.items.append(event)
        self.changed.set()

    def close_text(self) -> None:
        if self._open is not None:
            self._open.done = True
            self._open = None
        self.changed.set()

    async def wait(self) -> None:
        self.changed.clear()
        await self.changed.wait()


async def _read(events: AsyncIterator[ReplyEvent], inbox: _Inbox) -> None:
    try:
        async for event in events:
            inbox.add(event)
    except Exception as error:  # noqa: BLE001 - handed to the writer, raised after delivery
        inbox.error = error
    finally:
        inbox.close_text()
        inbox.closed = True
        inbox.changed.set()
        closer = getattr(events, "aclose", None)
        if closer is not None:
            with contextlib.suppress(RuntimeError):
                await closer()


async def relay(
    events: AsyncIterator[ReplyEvent],
    sink: MessageSink,
    pacer: Pacer,
    *,
    with_stop: bool = True,
    render_notice: Callable[[Notice], str] = notice_text,
) -> RelayResult:
    """Deliver one reply's events through ``sink``, paced by ``pacer``."""
    inbox = _Inbox()
    stats = Stats()
    result = RelayResult()
    reader = asyncio.create_task(_read(events, inbox))
    try:
        index = 0
        while True:
            if index < len(inbox.items):
                item = inbox.items[index]
                index += 1
                await _deliver(item, inbox, sink, pacer, stats, result, with_stop, render_notice)
            elif inbox.closed:
                break
            else:
                await inbox.wait()
    finally:
        if not reader.done():
            await cancel_and_wait(reader)  # a lost cancel must not hang the relay
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    result.messages = stats.messages
    result.calls, result.retry_afters, result.lost_updates = (
        stats.calls,
        stats.retry_afters,
        stats.lost,
    )
    _record_metrics(sink.limits.chat_key, result)
    if inbox.error is not None:
        raise inbox.error
    return result


def _record_metrics(chat_key: str, result: RelayResult) -> None:
    """Platform calls, 429s and time to first visible text, labelled by the chat key's
    platform prefix ("tg", "dc", "slack")."""
    metrics = process_metrics()
    platform = chat_key.split(":", 1)[0]
    metrics.platform_edit_sent(platform, result.calls)
    if result.retry_afters:
        metrics.platform_rate_limited(platform, result.retry_afters)
    if result.first_visible_delay_s is not None:
        metrics.platform_first_text(platform, result.first_visible_delay_s)


async def _deliver(
    item: _Item,
    inbox: _Inbox,
    sink: MessageSink,
    pacer: Pacer,
    stats: Stats,
    result: RelayResult,
    with_stop: bool,
    render_notice: Callable[[Notice], str],
) -> None:
    if isinstance(item, TextState):
        await _stream_text(item, inbox, TextStreamer(sink, pacer, stats, with_stop=with_stop))
        result.text += item.full
        result.outcome = item.outcome or result.outcome
        if item.first_text_at is not None and stats.first_visible_at is not None:
            if result.first_visible_delay_s is None:
                result.first_visible_delay_s = stats.first_visible_at - item.first_text_at
    elif isinstance(item, Notice):
        limits = sink.limits
        for piece in split_text(render_notice(item), limits.max_length, limits.length):
            await _paced_call(sink, pacer, stats, functools.partial(sink.notice, piece))
    else:
        await _paced_call(sink, pacer, stats, functools.partial(sink.send_media, item))


async def _stream_text(state: TextState, inbox: _Inbox, streamer: TextStreamer) -> None:
    while not state.done:
        if streamer.wants_update(state):
            await streamer.interim(state)
        else:
            await inbox.wait()
    await streamer.finish(state)


async def _paced_call(
    sink: MessageSink, pacer: Pacer, stats: Stats, call: Callable[[], Awaitable[object]]
) -> None:
    limits = sink.limits
    for _ in range(MAX_FINAL_ATTEMPTS):
        await pacer.wait_turn(limits.chat_key, limits.interval_s, Priority.FINAL)
        try:
            await call()
            stats.calls += 1
            return
        except PlatformRetryAfter as error:
            stats.retry_afters += 1
            await pacer.penalize(limits.chat_key, error.seconds, bot_wide=error.bot_wide)
    raise DeliveryFailed(f"{limits.chat_key}: not delivered after repeated 429s")
