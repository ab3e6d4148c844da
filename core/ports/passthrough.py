"""A model server that takes an OpenAI request body as it is (the /v1 gateway)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

JSONObject = dict[str, object]


class ChatPassthrough(Protocol):
    def passthrough_chat(self, body: JSONObject, stream: bool) -> AsyncGenerator[JSONObject, None]:
        """POST ``body`` to ``/chat/completions`` unchanged. Yields the whole
        ``chat.completion`` once, or each streamed chunk object as it arrives (an
        ``{"error": ...}`` object mid-stream included) until ``[DONE]``. An error status
        raises the core's ``Upstream*`` errors (a 4xx as ``UpstreamRejected``); a stream
        that ends without ``[DONE]`` raises ``UpstreamError``."""
        ...
