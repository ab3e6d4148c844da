"""An incremental Server-Sent Events decoder: bytes in, complete ``data`` payloads out.

Written by hand (rather than reading lines from aiohttp) so that a long line never hits
the reader's line-size limit and a UTF-8 character split across network reads survives."""

from __future__ import annotations

import codecs
import re

_EOL = re.compile(r"\r\n|\r|\n")


class SSEDecoder:
    """Feed raw bytes; get back the ``data`` of each event completed by a blank line.

    Comment lines (``:``) and other fields (``event``, ``id``, ``retry``) are skipped;
    several ``data`` lines in one event are joined with newlines, as the spec says."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += self._text.decode(chunk)
        events: list[str] = []
        position = 0
        for match in _EOL.finditer(self._buffer):
            # A lone trailing "\r" may be the first half of "\r\n": wait for more bytes.
            if match.group() == "\r" and match.end() == len(self._buffer):
                break
            event = self._line(self._buffer[position : match.start()])
            if event is not None:
                events.append(event)
            position = match.end()
        self._buffer = self._buffer[position:]
        return events

    def finish(self) -> list[str]:
        """The stream ended: flush a last event that lacked its closing blank line.

        Strictly such an event should be dropped, but some servers end with a bare
        ``data: [DONE]``; the caller decides what an unterminated payload means."""
        self._buffer += self._text.decode(b"", final=True)
        events = self.feed(b"\n\n") if self._buffer or self._data else []
        self._buffer = ""
        return events

    def _line(self, line: str) -> str | None:
        if not line:
            if not self._data:
                return None
            event, self._data = "\n".join(self._data), []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None
