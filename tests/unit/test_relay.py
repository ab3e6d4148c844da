"""The relay against a recording sink: failures on the way still deliver the final text."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bots.streaming import (
    DeliveryFailed,
    MessageHandle,
    PlatformRetryAfter,
    SinkLimits,
    relay,
)
from core.types import AudioReady, ImageReady, ReplyEvent, TextDelta, TextDone, Usage
from tests.pacing import MemoryPacer


@dataclass
class RecordingSink:
    limits: SinkLimits
    calls: list[tuple[str, object, str, bool, bool]] = field(default_factory=list)
    messages: dict[int, str] = field(default_factory=dict)
    fail: list[tuple[str, Exception]] = field(default_factory=list)  # (call name, error) once

    def _maybe_fail(self, name: str) -> None:
        for index, (target, error) in enumerate(self.fail):
            if target == name:
                del self.fail[index]
                raise error

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        self._maybe_fail("send")
        handle = len(self.messages) + 1
        self.messages[handle] = text
        self.calls.append(("send", handle, text, final, with_stop))
        return handle

    async def edit(self, handle: MessageHandle, text: str, *, final: bool, with_stop: bool) -> None:
        self._maybe_fail("edit")
        assert isinstance(handle, int)
        self.messages[handle] = text
        self.calls.append(("edit", handle, text, final, with_stop))

    async def preview(self, text: str, *, with_stop: bool) -> None:
        self._maybe_fail("preview")
        self.calls.append(("preview", None, text, False, with_stop))

    async def commit_preview(self, text: str) -> MessageHandle:
        return await self.send(text, final=True, with_stop=False)

    async def send_media(self, item: ImageReady | AudioReady) -> None:
        self.calls.append(("media", None, item.mime, True, False))

    async def notice(self, text: str) -> None:
        self.calls.append(("notice", None, text, True, False))


def limits(**kwargs: object) -> SinkLimits:
    values: dict[str, object] = {"chat_key": "c", "max_length": 100, "interval_s": 0.05}
    values.update(kwargs)
    return SinkLimits(**values)  # type: ignore[arg-type]


async def words(n: int, delay: float = 0.005) -> AsyncIterator[ReplyEvent]:
    full = ""
    for i in range(n):
        piece = f"word{i} "
        full += piece
        yield TextDelta(piece, full)
        await asyncio.sleep(delay)
    yield TextDone(full, credits=1, usage=Usage(1, 1))


def joined(sink: RecordingSink) -> str:
    return " ".join(sink.messages[k] for k in sorted(sink.messages))


async def test_overflow_finalizes_each_piece_once() -> None:
    sink = RecordingSink(limits())
    result = await relay(words(60), sink, MemoryPacer(global_rate=1000))
    assert joined(sink).split() == result.text.split() == [f"word{i}" for i in range(60)]
    assert all(len(text) <= 100 for text in sink.messages.values())
    finals = [call for call in sink.calls if call[3]]
    assert sorted(call[1] for call in finals) == sorted(sink.messages)  # one final per message
    for handle in sink.messages:  # nothing touches a message after its final
        last = max(i for i, call in enumerate(sink.calls) if call[1] == handle)
        assert sink.calls[last][3] and not sink.calls[last][4]


async def test_preview_mode_commits_each_piece() -> None:
    sink = RecordingSink(limits(native_preview=True))
    await relay(words(40), sink, MemoryPacer(global_rate=1000))
    assert {call[0] for call in sink.calls} == {"preview", "send"}
    assert all(call[3] for call in sink.calls if call[0] == "send")
    assert joined(sink).split() == [f"word{i}" for i in range(40)]


async def test_429_on_final_is_waited_out_and_retried() -> None:
    sink = RecordingSink(limits(max_length=4096), fail=[("send", PlatformRetryAfter(0.3))])
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await relay(words(3, delay=0), sink, MemoryPacer())
    assert loop.time() - start >= 0.3
    assert result.retry_afters == 1 and list(sink.messages.values()) == [result.text.strip()]


async def test_lost_final_edit_posts_a_new_message() -> None:
    sink = RecordingSink(limits(max_length=4096, interval_s=0.01))

    async def events() -> AsyncIterator[ReplyEvent]:
        yield TextDelta("Hello", "Hello")
        await asyncio.sleep(0.05)
        sink.fail.append(("edit", DeliveryFailed("message to edit not found")))
        yield TextDone("Hello world", credits=1, usage=Usage(1, 1))

    await relay(events(), sink, MemoryPacer())
    assert sink.messages == {1: "Hello", 2: "Hello world"}
    assert sink.calls[-1][0] == "send" and sink.calls[-1][3]


async def test_media_after_text_in_order() -> None:
    sink = RecordingSink(limits())

    async def events() -> AsyncIterator[ReplyEvent]:
        yield TextDelta("Here it is", "Here it is")
        yield TextDone("Here it is", credits=1, usage=Usage(1, 1))
        yield AudioReady(b"ogg", "audio/ogg", credits=1)

    await relay(events(), sink, MemoryPacer())
    assert [call[0] for call in sink.calls] == ["send", "media"]


async def test_without_stop_control() -> None:
    sink = RecordingSink(limits(max_length=4096))
    await relay(words(30), sink, MemoryPacer(global_rate=1000), with_stop=False)
    assert not any(call[4] for call in sink.calls)


async def test_relay_records_platform_metrics() -> None:
    from bots.metrics import process_metrics

    metrics = process_metrics()
    platform = limits().chat_key.split(":", 1)[0]
    edits, limited = metrics.edits.value(platform), metrics.platform_429.value(platform)
    firsts = metrics.first_text.count(platform)
    sink = RecordingSink(limits(max_length=4096), fail=[("send", PlatformRetryAfter(0.05))])
    result = await relay(words(3, delay=0), sink, MemoryPacer())
    assert metrics.edits.value(platform) == edits + result.calls > edits
    assert metrics.platform_429.value(platform) == limited + 1
    assert metrics.first_text.count(platform) == firsts + 1
