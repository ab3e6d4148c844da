"""A streamed /v1 answer forwarded event by event, and settled when it ends.

The upstream's events go to the client as its own bytes; only an event whose ``model``
must be renamed to the client's id is re-serialised. A meter per route reads usage and
the text produced from the events as they pass, so that a stream the client leaves or
the upstream cuts is still charged for what was produced."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol, Self

from core.errors import UpstreamError
from core.models_config import ModelSpec
from core.money import estimate_tokens
from core.ports import JsonObject, RelayEvent
from core.services.gateway_paid import Door
from core.types import Outcome, Usage


class Meter(Protocol):
    done: bool  # the upstream said the answer is complete

    def see(self, event: JsonObject) -> bool:
        """Read one event's data; False to keep it from the client."""
        ...

    def usage(self) -> Usage | None: ...

    def produced(self) -> str: ...


def usage_of(usage: object, prompt: str, completion: str) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    given, taken = usage.get(prompt), usage.get(completion)
    if not isinstance(given, int) or not isinstance(taken, int):
        return None
    return Usage(given, taken)


class CompletionsMeter:
    """``text_completion`` chunks; usage in a last chunk with empty ``choices`` (asked
    upstream always, passed on only if the client asked for it)."""

    def __init__(self, client_wants_usage: bool) -> None:
        self.done = False
        self._wants_usage = client_wants_usage
        self._usage: Usage | None = None
        self._text: list[str] = []

    def see(self, event: JsonObject) -> bool:
        choices = event.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, dict) and isinstance(choice.get("text"), str):
                self._text.append(choice["text"])
        usage = usage_of(event.get("usage"), "prompt_tokens", "completion_tokens")
        if usage is not None:
            self._usage = usage
            if not choices and not self._wants_usage:
                return False
        return True

    def usage(self) -> Usage | None:
        return self._usage

    def produced(self) -> str:
        return "".join(self._text)


class ResponsesMeter:
    """Responses API events: text in ``response.output_text.delta``, usage in the
    ``response`` of the terminal event (completed, incomplete or failed)."""

    _END = frozenset({"response.completed", "response.incomplete", "response.failed"})

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None
        self._text: list[str] = []

    def see(self, event: JsonObject) -> bool:
        kind = event.get("type")
        if kind == "response.output_text.delta" and isinstance(event.get("delta"), str):
            self._text.append(str(event["delta"]))
        response = event.get("response")
        if kind in self._END and isinstance(response, dict):
            self.done = True
            self._usage = usage_of(response.get("usage"), "input_tokens", "output_tokens")
        return True

    def usage(self) -> Usage | None:
        return self._usage

    def produced(self) -> str:
        return "".join(self._text)


def rename_model(event: JsonObject, model: ModelSpec) -> bool:
    """Put the client's model id where the upstream's is; True if anything changed."""
    changed = False
    for holder in (event, event.get("response")):
        if isinstance(holder, dict) and holder.get("model") == model.upstream:
            holder["model"] = model.name
            changed = True
    return changed


Settle = Callable[[Door, Usage, Outcome], Coroutine[object, object, None]]


class PassThroughStream:
    """``async with`` it, then ``async for`` the bytes to write. Settles on leaving the
    block, however it is left; the admission (``door_cm``) is released after that."""

    def __init__(
        self,
        door_cm: AbstractAsyncContextManager[Door],
        door: Door,
        events: AsyncGenerator[RelayEvent, None],
        first: RelayEvent | None,
        meter: Meter,
        prompt_tokens: int,
        settle: Settle,
    ) -> None:
        self._door_cm, self._door = door_cm, door
        self._events, self._first = events, first
        self._meter = meter
        self._prompt_tokens = prompt_tokens
        self._settle = settle
        self._failed = False
        self._ended = first is None
        self._iterating: AsyncGenerator[bytes, None] | None = None

    async def __aenter__(self) -> Self:
        return self

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterating is None:
            self._iterating = self._iterate()
        return self._iterating

    async def _iterate(self) -> AsyncGenerator[bytes, None]:
        try:
            pending = self._first
            while pending is not None:
                out = self._forward(pending)
                if out is not None:
                    yield out
                pending = await anext(self._events, None)
            self._ended = True
        except UpstreamError:
            self._failed = True
            raise

    def _forward(self, event: RelayEvent) -> bytes | None:
        if event.data is None or event.data == "[DONE]":
            if event.data == "[DONE]":
                self._meter.done = True
            return event.raw
        try:
            payload = json.loads(event.data)
        except ValueError:
            return event.raw
        if not isinstance(payload, dict):
            return event.raw
        if isinstance(payload.get("error"), dict):
            self._failed = True  # a mid-stream error: passed on, the stream is cut
            return event.raw
        if not self._meter.see(payload):
            return None
        if rename_model(payload, self._door.model):
            return _with_data(event.raw, json.dumps(payload, ensure_ascii=False))
        return event.raw

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # Closed here, not left to the garbage collector, when the client went away
            # in the middle of ``async for``.
            if self._iterating is not None:
                await self._iterating.aclose()
            await self._events.aclose()
        finally:
            try:
                usage = self._meter.usage()
                if usage is None:
                    usage = Usage(self._prompt_tokens, estimate_tokens(self._meter.produced()))
                await self._settle(self._door, usage, self._outcome(exc))
            finally:
                await self._door_cm.__aexit__(exc_type, exc, tb)

    def _outcome(self, exc: BaseException | None) -> Outcome:
        if self._failed or isinstance(exc, UpstreamError):
            return Outcome.CUT
        if isinstance(exc, asyncio.CancelledError | ConnectionError) or not self._ended:
            return Outcome.STOPPED
        return Outcome.OK


def _with_data(raw: bytes, data: str) -> bytes:
    """The event with its data lines replaced by one carrying ``data``; other fields kept."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    kept = [line for line in lines if line and not line.startswith("data:")]
    return ("\n".join([*kept, f"data: {data}"]) + "\n\n").encode("utf-8")
