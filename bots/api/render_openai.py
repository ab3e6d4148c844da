"""Core values → the OpenAI shapes of a /v1 chat answer (whole, or streamed as chunks)."""

from __future__ import annotations

from dataclasses import dataclass

from bots.api import models_openai as oai
from bots.api import render
from core.types import Outcome, TextDone


def finish_reason(done: TextDone) -> str:
    return "stop" if done.outcome is Outcome.OK else "length"


@dataclass(frozen=True, slots=True)
class Completion:
    """The OpenAI shapes of one /v1 chat answer: whole, or as ``chat.completion.chunk``s."""

    id: str
    created: int
    model: str

    def whole(self, done: TextDone) -> oai.ChatCompletion:
        message = oai.ChatMessage(role="assistant", content=done.text)
        choice = oai.Choice(index=0, message=message, finish_reason=finish_reason(done))
        return oai.ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[choice],
            usage=render.usage(done.usage),
        )

    def chunk(self, delta: oai.ChunkDelta, finish: str | None = None) -> bytes:
        choice = oai.ChunkChoice(index=0, delta=delta, finish_reason=finish)
        return render.sse_data(
            oai.ChatCompletionChunk(
                id=self.id, created=self.created, model=self.model, choices=[choice]
            )
        )

    def last(self, done: TextDone) -> bytes:
        return self.chunk(oai.ChunkDelta(), finish_reason(done))

    def usage(self, done: TextDone) -> bytes:
        return render.sse_data(
            oai.ChatCompletionChunk(
                id=self.id,
                created=self.created,
                model=self.model,
                choices=[],
                usage=render.usage(done.usage),
            )
        )
