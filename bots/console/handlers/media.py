"""``/image`` and ``/tts``: the result is saved to a file and its path shown."""

from __future__ import annotations

from bots.console import render
from bots.console.deps import ConsoleDeps
from bots.console.mapping import image_request, speech_request
from core.i18n import Translator
from core.types import AudioReady, ImageReady


async def image(deps: ConsoleDeps, t: Translator, prompt: str) -> None:
    _save(deps, t, "image", await deps.core.media.image(image_request(deps.caller, prompt)))


async def tts(deps: ConsoleDeps, t: Translator, text: str) -> None:
    _save(deps, t, "speech", await deps.core.media.speech(speech_request(deps.caller, text)))


def _save(deps: ConsoleDeps, t: Translator, kind: str, media: ImageReady | AudioReady) -> None:
    path = deps.sink.save(render.media_file_name(kind, media), media.data)
    deps.sink.line(render.saved(t, path, media.credits))
