"""Slack's native streaming for one piece of an answer: ``chat.startStream`` /
``appendStream`` / ``stopStream``.

The relay hands over the piece's whole text each time; this sends only what Slack has
not seen yet, at most 12,000 characters a call. A stream that expires
(``message_not_in_streaming_state``) keeps what it showed and the rest continues in a new
stream (or, for the final text, a new message): nothing is lost or shown twice. A refused
scope becomes ``PreviewUnavailable`` so the relay edits messages instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.errors import api_error, mapped
from bots.streaming import PreviewUnavailable

logger = logging.getLogger(__name__)

STREAM_CHUNK = 12_000  # Slack's limit for markdown_text per streaming call
EXPIRED = "message_not_in_streaming_state"
REFUSED = frozenset(
    {"missing_scope", "not_allowed_token_type", "method_deprecated", "unknown_method"}
)


class StreamExpired(Exception):
    """The current stream is no longer open; what it showed stays."""


def chunks(text: str, size: int = STREAM_CHUNK) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class NativeStream:
    """Streams one piece of text into a thread; ``sent`` is how much Slack has seen."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str,
        *,
        team_id: str,
        user_id: str,
    ) -> None:
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts
        self._recipient = {"recipient_team_id": team_id, "recipient_user_id": user_id}
        self.ts: str | None = None  # the open stream's message
        self.first_ts: str | None = None
        self.sent = 0  # characters of the piece Slack has seen, over all its streams
        self.streams = 0

    async def show(self, text: str) -> None:
        """Bring Slack up to ``text`` (the piece so far)."""
        if len(text) <= self.sent:
            return  # the relay's text only grows; nothing new
        try:
            await self._extend(text)
        except StreamExpired:
            logger.info("slack stream %s expired: continuing in a new message", self.ts)
            self.ts = None
            await self._extend(text)

    async def finish(self, text: str, post_rest: Callable[[str], Awaitable[None]]) -> str | None:
        """Append what is missing, stop the stream; a stream that expired meanwhile is
        final already, so the rest goes through ``post_rest`` as new messages."""
        if self.ts is not None:
            try:
                await self._append(text)
                await self._call(
                    "chat.stopStream",
                    self._client.chat_stopStream,
                    channel=self._channel,
                    ts=self.ts,
                )
            except StreamExpired:
                logger.info("slack stream %s expired before its end", self.ts)
        self.ts = None
        if len(text) > self.sent:
            rest, self.sent = text[self.sent :], len(text)
            await post_rest(rest)
        return self.first_ts

    async def _extend(self, text: str) -> None:
        if self.ts is None:
            await self._start(text[self.sent : self.sent + STREAM_CHUNK])
        await self._append(text)

    async def _start(self, head: str) -> None:
        response = await self._call(
            "chat.startStream",
            self._client.chat_startStream,
            channel=self._channel,
            thread_ts=self._thread_ts,
            markdown_text=head,
            **self._recipient,
        )
        self.ts = str(response["ts"])
        self.first_ts = self.first_ts or self.ts
        self.sent += len(head)
        self.streams += 1

    async def _append(self, text: str) -> None:
        for piece in chunks(text[self.sent :]):
            await self._call(
                "chat.appendStream",
                self._client.chat_appendStream,
                channel=self._channel,
                ts=self.ts,
                markdown_text=piece,
            )
            self.sent += len(piece)

    async def _call(
        self, what: str, method: Callable[..., Awaitable[object]], **kwargs: object
    ) -> dict[str, object]:
        async with mapped(what):
            try:
                response = await method(**kwargs)
            except SlackApiError as error:
                code = api_error(error)
                if code == EXPIRED:
                    raise StreamExpired(code) from error
                if code in REFUSED:
                    raise PreviewUnavailable(code) from error
                raise
        data = getattr(response, "data", None)
        return data if isinstance(data, dict) else {}
