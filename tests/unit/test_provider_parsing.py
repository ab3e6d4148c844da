"""The provider's parsers on their own: SSE framing, chunk payloads, error headers."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from core.errors import UpstreamError
from core.providers.chat_stream import ChunkReader, whole_completion
from core.providers.http_errors import retry_after, status_error
from core.providers.sse import SSEDecoder
from core.types import ChatChunk, Usage


def test_sse_events_survive_any_split_and_line_ending() -> None:
    stream = ': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\ndata: é\r\rdata: [DONE]\n\n'
    raw = stream.encode()
    for size in (1, 2, 3, 7, len(raw)):
        decoder = SSEDecoder()
        events = [e for i in range(0, len(raw), size) for e in decoder.feed(raw[i : i + size])]
        events += decoder.finish()
        assert events == ['{"a":1}', "line1\nline2", "é", "[DONE]"], size


def test_sse_finish_flushes_an_unterminated_last_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: [DONE]") == []
    assert decoder.finish() == ["[DONE]"]
    assert SSEDecoder().finish() == []


def test_usage_on_content_chunks_is_held_until_done() -> None:
    reader = ChunkReader(secret=None)
    usage = '"usage":{"prompt_tokens":5,"completion_tokens":%d}'
    first = reader.read('{"choices":[{"delta":{"content":"Hi"}}],%s}' % (usage % 1))
    second = reader.read('{"choices":[{"delta":{"content":" you"}}],%s}' % (usage % 2))
    assert first == [ChatChunk(text="Hi")] and second == [ChatChunk(text=" you")]
    assert reader.read("[DONE]") == [ChatChunk(usage=Usage(5, 2))]
    assert reader.done


def test_usage_chunk_with_empty_choices_passes_at_once() -> None:
    reader = ChunkReader(secret=None)
    got = reader.read('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0}}')
    assert got == [ChatChunk(usage=Usage(3, 0))]
    assert reader.read('{"choices":[{"delta":{"content":null}}]}') == []
    assert reader.read("[DONE]") == []


def test_malformed_and_error_payloads_raise_without_the_secret() -> None:
    reader = ChunkReader(secret="sk-xyz")
    with pytest.raises(UpstreamError) as caught:
        reader.read('{"error":{"message":"bad sk-xyz"}}')
    assert "sk-xyz" not in str(caught.value) and "bad ***" in caught.value.detail
    with pytest.raises(UpstreamError):
        reader.read("{not json sk-xyz")


def test_whole_completion_from_a_server_that_ignores_stream() -> None:
    body = b'{"choices":[{"message":{"role":"assistant","content":"Done."}}],"usage":{"prompt_tokens":4,"completion_tokens":2}}'
    assert whole_completion(body, None) == [ChatChunk(text="Done."), ChatChunk(usage=Usage(4, 2))]


def test_retry_after_forms() -> None:
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
    later = retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert later is not None and 25 <= later <= 31


def test_status_error_reads_non_json_bodies() -> None:
    error = status_error(502, b"<html>Bad Gateway</html>", {}, "k")
    assert error.status == 502 and "Bad Gateway" in error.detail
