"""An OpenAI-compatible model server (``core/providers``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol

from core.ports.passthrough import ChatPassthrough
from core.types import ChatChunk, ChatMessage, Transcript


class ModelProvider(ChatPassthrough, Protocol):
    """An OpenAI-compatible server. ``model`` is the upstream id; ``limit_parameter``
    the name its server takes the output limit under (the models file's)."""

    def stream_chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        limit_parameter: str = "max_tokens",
    ) -> AsyncGenerator[ChatChunk, None]: ...

    async def generate_image(self, model: str, prompt: str, size: str) -> bytes: ...

    async def speak(self, model: str, text: str, voice: str) -> bytes:
        """Speech as OGG/Opus bytes."""
        ...

    async def transcribe(self, model: str, audio: bytes, filename: str) -> Transcript: ...
