"""Spoken answers (``/voice on|auto``): the finished text answer read aloud through the
TTS use case (charged like /tts, as a request of its own), sent after the text.

Every chat adapter asks ``spoken_answer`` after streaming the text, and sends what comes
back its own way (Telegram sendVoice, a Discord or Slack file upload, a console file)."""

from __future__ import annotations

from bots.streaming.answer import Answered
from core.services import Core
from core.services.chat_reply import ChatReply
from core.services.requests import ChatRequest, SpeechRequest
from core.types import AudioReady, Outcome


async def spoken_answer(
    core: Core, request: ChatRequest, reply: ChatReply, answered: Answered, *, voice_input: bool
) -> AudioReady | None:
    """The answer as a voice message, or None when the person does not want one here
    (``off``; ``auto`` and a typed question) or there is no complete answer to read.
    Refusals (credits, role, limits) raise like any paid request's."""
    done = answered.done
    if not reply.settings.speaks(voice_input) or done is None or done.outcome is not Outcome.OK:
        return None
    text = done.text.strip()[: core.config.max_tts_chars]
    if not text:
        return None
    event = f"{request.event_id}:voice" if request.event_id else None
    speech = SpeechRequest(
        caller=request.caller, chat_id=request.chat_id, text=text, event_id=event
    )
    return await core.media.speech(speech)
