"""What a platform supplies to the relay: its limits and its calls (``MessageSink``).

A sink turns text into platform calls for one reply in one chat. It formats the text
when ``final`` is true (Markdown to the platform's dialect, with its own plain-text
fallback), shows a Stop control when ``with_stop`` is true, and reports "not modified"
answers as success. It raises the errors below and nothing platform-specific.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.types import AudioReady, ImageReady


class PlatformRetryAfter(Exception):
    """The platform said 429: nothing for this chat until ``seconds`` have passed; with
    ``bot_wide``, nothing for any chat of this bot (a global limit was hit)."""

    def __init__(self, seconds: float, *, bot_wide: bool = False) -> None:
        super().__init__(f"retry after {seconds} s" + (" (bot-wide)" if bot_wide else ""))
        self.seconds = seconds
        self.bot_wide = bot_wide


class PreviewUnavailable(Exception):
    """The native preview (e.g. a Telegram draft) was refused: use messages instead."""


class DeliveryFailed(Exception):
    """A call failed for good (message gone, chat blocked, bad request, network)."""


@dataclass(frozen=True, slots=True)
class SinkLimits:
    chat_key: str  # names the chat for the pacer, e.g. "tg:123"
    max_length: int  # per message, in units of ``length``
    interval_s: float  # minimum time between calls for this chat
    length: Callable[[str], int] = len
    is_group: bool = False
    native_preview: bool = False  # use preview()/commit_preview() while streaming


MessageHandle = object
"""Whatever the sink needs to edit a message it sent (a message id, a timestamp...)."""


class MessageSink(Protocol):
    @property
    def limits(self) -> SinkLimits: ...

    async def send(self, text: str, *, final: bool, with_stop: bool) -> MessageHandle:
        """Post a new message; returns its handle."""
        ...

    async def edit(self, handle: MessageHandle, text: str, *, final: bool, with_stop: bool) -> None:
        """Replace the text of a message sent before."""
        ...

    async def preview(self, text: str, *, with_stop: bool) -> None:
        """Show interim text natively (only called when ``limits.native_preview``).

        Raises ``PreviewUnavailable`` when the platform refuses."""
        ...

    async def commit_preview(self, text: str) -> MessageHandle:
        """Turn the preview into a real message with the final text."""
        ...

    async def send_media(self, item: ImageReady | AudioReady) -> None: ...

    async def notice(self, text: str) -> None:
        """A short message from the bot itself (plain text, within the limit)."""
        ...
