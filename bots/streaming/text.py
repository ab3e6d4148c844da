"""Streams one answer's text into a chat: paced, coalesced, split past the limit.

``TextStreamer`` owns the messages of one answer. Interim text is shown plain with a
Stop control; once the text outgrows a message, the head is finalized (formatted, no
Stop, never touched again) and the rest continues in a new message. A 429 blocks the
chat for its whole ``retry_after`` (through the pacer) and then the newest text goes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bots.streaming.pacing import Pacer, Priority
from bots.streaming.sink import (
    DeliveryFailed,
    MessageHandle,
    MessageSink,
    PlatformRetryAfter,
    PreviewUnavailable,
)
from bots.streaming.split import cut_first, split_text
from core.types import Outcome

logger = logging.getLogger(__name__)

MAX_FINAL_ATTEMPTS = 30  # 429s are waited out in full; this only stops an endless loop


@dataclass
class TextState:
    """What the event reader has seen of one answer so far."""

    full: str = ""
    done: bool = False
    outcome: Outcome | None = None
    first_text_at: float | None = None


@dataclass
class Stats:
    calls: int = 0
    retry_afters: int = 0
    lost: int = 0
    first_visible_at: float | None = None
    messages: list[MessageHandle] = field(default_factory=list)


class TextStreamer:
    def __init__(self, sink: MessageSink, pacer: Pacer, stats: Stats, *, with_stop: bool) -> None:
        self._sink = sink
        self._pacer = pacer
        self._stats = stats
        self._stop = with_stop
        self._limits = sink.limits
        self._preview = sink.limits.native_preview
        self._offset = 0  # where the current message's text starts in the answer
        self._carry = ""  # a reopened code fence in front of it
        self._handle: MessageHandle | None = None
        self._previewing = False
        self._shown = ""
        self._turn_held = False

    def current(self, state: TextState) -> str:
        return self._carry + state.full[self._offset :]

    def wants_update(self, state: TextState) -> bool:
        text = self.current(state)
        return bool(text.strip()) and text != self._shown

    async def interim(self, state: TextState) -> None:
        """Take a turn and show the newest text (called when ``wants_update``)."""
        visible = self._handle is not None or self._previewing or self._stats.messages
        await self._take_turn(Priority.INTERIM if visible else Priority.FIRST)
        if state.done:
            return  # keep the turn for the final
        text = self.current(state)
        if self._limits.length(text) > self._limits.max_length:
            await self._overflow(text)
            return
        await self._show(text)

    async def finish(self, state: TextState) -> None:
        """Deliver the final text of the answer, formatted, without a Stop control."""
        pieces = split_text(self.current(state), self._limits.max_length, self._limits.length)
        if not pieces and self._shown and not self._preview:
            pieces = [self._shown]  # nothing new, but the Stop control must go
        for piece in pieces:
            await self._finalize(piece)

    async def _overflow(self, text: str) -> None:
        cut = cut_first(text, self._limits.max_length, self._limits.length, keep=len(self._carry))
        await self._finalize(cut.head)
        self._offset += cut.rest_start - len(self._carry)
        self._carry = cut.reopen

    async def _take_turn(self, priority: Priority) -> None:
        if self._turn_held:
            self._turn_held = False
            return
        await self._pacer.wait_turn(self._limits.chat_key, self._limits.interval_s, priority)
        self._turn_held = True

    def _used_turn(self) -> None:
        self._turn_held = False
        self._stats.calls += 1
        if self._stats.first_visible_at is None:
            self._stats.first_visible_at = time.monotonic()

    async def _retry_after(self, error: PlatformRetryAfter) -> None:
        self._turn_held = False
        self._stats.retry_afters += 1
        logger.info("%s: 429, waiting %.1f s", self._limits.chat_key, error.seconds)
        await self._pacer.penalize(self._limits.chat_key, error.seconds, bot_wide=error.bot_wide)

    async def _show(self, text: str) -> None:
        try:
            if self._preview:
                await self._sink.preview(text, with_stop=self._stop)
                self._previewing = True
            elif self._handle is None:
                self._handle = await self._sink.send(text, final=False, with_stop=self._stop)
                self._stats.messages.append(self._handle)
            else:
                await self._sink.edit(self._handle, text, final=False, with_stop=self._stop)
            self._used_turn()
            self._shown = text
        except PlatformRetryAfter as error:
            await self._retry_after(error)
        except PreviewUnavailable:
            logger.info("%s: native preview refused, editing messages", self._limits.chat_key)
            self._turn_held = False
            self._preview = False
        except DeliveryFailed as error:
            # A lost interim edit is not worth a retry: the final one will carry the text.
            self._used_turn()
            self._stats.lost += 1
            self._shown = text
            logger.warning("%s: interim update lost: %s", self._limits.chat_key, error)

    async def _finalize(self, text: str) -> None:
        failures = 0
        for _ in range(MAX_FINAL_ATTEMPTS):
            await self._take_turn(Priority.FINAL)
            try:
                await self._deliver_final(text)
                self._used_turn()
                self._handle, self._previewing, self._shown = None, False, ""
                return
            except PlatformRetryAfter as error:
                await self._retry_after(error)
            except PreviewUnavailable:
                self._turn_held = False
                self._preview = False
            except DeliveryFailed as error:
                self._turn_held = False
                failures += 1
                logger.warning("%s: final delivery failed: %s", self._limits.chat_key, error)
                if self._handle is not None:
                    self._handle = None  # the message is gone or stuck: post a new one
                elif failures >= 3:
                    raise
        raise DeliveryFailed(f"{self._limits.chat_key}: final not delivered")

    async def _deliver_final(self, text: str) -> None:
        if self._preview:
            self._stats.messages.append(await self._sink.commit_preview(text))
        elif self._handle is not None:
            await self._sink.edit(self._handle, text, final=True, with_stop=False)
        else:
            handle = await self._sink.send(text, final=True, with_stop=False)
            self._stats.messages.append(handle)
