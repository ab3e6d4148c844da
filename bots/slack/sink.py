"""Slack's side of the streaming relay: ``SlackSink`` makes the Web API calls.

With native streaming the answer streams through ``chat.startStream`` / ``appendStream``
/ ``stopStream`` (``bots.slack.stream``) and a Stop button comes as an ephemeral message
to the asker (a stream cannot carry buttons). Otherwise a message is posted and edited
with ``chat.update`` (Tier 3: the relay's pacer keeps the workspace within it), interim
text plain with a Stop button, the final text as mrkdwn. A final refused as
``msg_too_long`` is split and continues in new messages: nothing is truncated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import render
from bots.slack.errors import MessageTooLong, mapped
from bots.slack.mapping import Target
from bots.slack.stream import NativeStream
from bots.streaming import MessageHandle, PreviewUnavailable, SinkLimits, split_text
from core.types import AudioReady, ImageReady

logger = logging.getLogger(__name__)

MAX_TEXT = 12_000  # per message; Slack refuses 40,000, mrkdwn escaping needs room
EDIT_INTERVAL_S = 1.0


async def tell(client: AsyncWebClient, target: Target, text: str, *, private: bool) -> None:
    """A message from the bot outside any answer; private ones only the person sees (not
    possible in a DM, where only they see it anyway)."""
    async with mapped("reply"):
        if private and not target.is_dm:
            await client.chat_postEphemeral(
                channel=target.channel, user=target.user_id, text=text, thread_ts=target.thread_ts
            )
        else:
            await client.chat_postMessage(
                channel=target.channel, text=text, thread_ts=target.thread_ts
            )


class SlackSink:
    """One answer in one Slack thread (or DM), on behalf of ``user_id``."""

    def __init__(
        self,
        client: AsyncWebClient,
        target: Target,
        *,
        request_id: str,
        native: bool,
        stop_label: str = "Stop",
        interval_s: float = EDIT_INTERVAL_S,
        max_length: int = MAX_TEXT,
        on_native_refused: Callable[[], None] | None = None,
    ) -> None:
        channel, thread_ts = target.channel, target.thread_ts
        # Told at the moment Slack refuses native streaming, so the next answer (which may
        # start before this one is finished) edits messages straight away.
        self._on_native_refused = on_native_refused
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts
        self._user_id = target.user_id
        self._team_id = target.team_id
        self._request_id = request_id
        self._stop_label = stop_label
        self._stream: NativeStream | None = None
        self.stop_offered = False
        self._limits = SinkLimits(
            chat_key=f"slack:{channel}:{thread_ts or ''}",
            max_length=max_length,
            interval_s=interval_s,
            is_group=channel[:1] != "D",
            native_preview=native and thread_ts is not None,
        )

    @property
    def limits(self) -> SinkLimits:
        return self._limits

    # ---- posted and edited messages ------------------------------------------------

    def _content(self, text: str, final: bool, with_stop: bool) -> dict[str, Any]:
        stop = (self._request_id, self._stop_label) if with_stop else None
        return render.message(text, final=final, stop=stop)

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        if final:
            return await self._final_pieces(None, text)
        return await self._post(self._content(text, final, with_stop))

    async def edit(self, handle: MessageHandle, text: str, *, final: bool, with_stop: bool) -> None:
        if final:
            await self._final_pieces(str(handle), text)
            return
        await self._update(str(handle), self._content(text, final, with_stop))

    async def _post(self, content: dict[str, Any]) -> str:
        if not content.get("blocks"):
            content = {"text": content["text"]}
        async with mapped("chat.postMessage"):
            response = await self._client.chat_postMessage(
                channel=self._channel,
                thread_ts=self._thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **content,
            )
            return str(response["ts"])

    async def _update(self, ts: str, content: dict[str, Any]) -> None:
        async with mapped("chat.update"):
            await self._client.chat_update(channel=self._channel, ts=ts, **content)

    async def _final_pieces(self, ts: str | None, text: str) -> str:
        """The final text into ``ts`` (or a new message); a ``msg_too_long`` halves it
        and the rest continues in new messages."""
        try:
            content = self._content(text, True, False)
            if ts is None:
                return await self._post(content)
            await self._update(ts, content)
            return ts
        except MessageTooLong:
            if len(text) <= 64:
                raise
        pieces = split_text(text, max(len(text) // 2, 64))
        logger.info(
            "%s: msg_too_long, continuing in %d messages", self._limits.chat_key, len(pieces)
        )
        first = await self._final_pieces(ts, pieces[0])
        for piece in pieces[1:]:
            await self._final_pieces(None, piece)
        return first

    # ---- native streaming ------------------------------------------------------------

    async def preview(self, text: str, *, with_stop: bool) -> None:
        assert self._thread_ts is not None  # native_preview is off without a thread
        if self._stream is None:
            self._stream = NativeStream(
                self._client,
                self._channel,
                self._thread_ts,
                team_id=self._team_id,
                user_id=self._user_id,
            )
        try:
            await self._stream.show(text)
        except PreviewUnavailable:
            if self._on_native_refused is not None:
                self._on_native_refused()
            raise
        finally:
            if self._stream.sent == 0:
                self._stream = None  # refused or failed before showing anything
        if with_stop and not self.stop_offered:
            await self._offer_stop()

    async def commit_preview(self, text: str) -> MessageHandle:
        stream = self._stream
        if stream is None:
            return await self._final_pieces(None, text)

        async def post_rest(rest: str) -> None:
            for piece in split_text(rest, self._limits.max_length) or [rest]:
                await self._final_pieces(None, piece)

        first = await stream.finish(text, post_rest)
        self._stream = None
        return first or ""

    async def _offer_stop(self) -> None:
        """A stream takes no buttons: the asker gets the Stop button privately."""
        self.stop_offered = True
        blocks = render.stop_blocks("", self._request_id, self._stop_label)[-1:]
        async with mapped("chat.postEphemeral"):
            await self._client.chat_postEphemeral(
                channel=self._channel,
                user=self._user_id,
                thread_ts=self._thread_ts,
                text=self._stop_label,
                blocks=blocks,
            )

    # ---- media and notices -----------------------------------------------------------

    async def send_media(self, item: ImageReady | AudioReady) -> None:
        filename, title = render.file_name_and_title(item)
        async with mapped("files.upload"):
            await self._client.files_upload_v2(
                content=item.data,
                filename=filename,
                title=title,
                channel=self._channel,
                thread_ts=self._thread_ts,
            )

    async def notice(self, text: str) -> None:
        await self._post({"text": text})
