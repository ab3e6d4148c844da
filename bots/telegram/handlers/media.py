"""Paid media: /image, /tts, voice notes and audio (transcribed, shown, answered) and
/transcribe as a reply to a voice note (transcribed only)."""

from __future__ import annotations

import io

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import Audio, Message, Update, Voice

from bots.language import translator
from bots.telegram.deps import TelegramDeps, bot_of
from bots.telegram.handlers.replies import action, answer, say, send_media
from bots.telegram.mapping import conversation_id, event_id, is_private, mentioned, replied_to_bot
from core.errors import AudioTooLarge, DownloadFailed
from core.observability import bind_request_id
from core.services.requests import Caller, ImageRequest, SpeechRequest, TranscriptionRequest
from core.types import Notice, Transcript

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API serves no bigger file


async def image(
    message: Message, command: CommandObject, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    request = ImageRequest(
        caller=caller,
        chat_id=conversation_id(message),
        prompt=command.args or "",
        event_id=event_id(event_update),
    )
    bind_request_id(request.request_id)
    async with action(message, "upload_photo"):
        picture = await tg.core.media.image(request)
    await send_media(tg, message, picture)


async def tts(
    message: Message, command: CommandObject, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    text = command.args or ""
    if not text.strip() and message.reply_to_message is not None:
        text = message.reply_to_message.text or message.reply_to_message.caption or ""
    request = SpeechRequest(
        caller=caller, chat_id=conversation_id(message), text=text, event_id=event_id(event_update)
    )
    bind_request_id(request.request_id)
    async with action(message, "record_voice"):
        speech = await tg.core.media.speech(request)
    await send_media(tg, message, speech)


async def _transcribe(
    tg: TelegramDeps, message: Message, clip: Voice | Audio, caller: Caller, event: str
) -> Transcript:
    """Refuses what Telegram would not let us download, before downloading anything."""
    limit = min(tg.core.config.max_audio_bytes, DOWNLOAD_LIMIT)
    if clip.file_size is not None and clip.file_size > limit:
        raise AudioTooLarge(size_mb=f"{clip.file_size / 2**20:.1f}", limit_mb=limit // 2**20)
    buffer = io.BytesIO()
    try:
        await bot_of(message).download(clip.file_id, destination=buffer)
    except TelegramBadRequest as exc:
        if "too big" in exc.message:
            raise AudioTooLarge(size_mb="> 20", limit_mb=limit // 2**20) from exc
        raise DownloadFailed() from exc
    except TelegramAPIError as exc:
        raise DownloadFailed() from exc
    name = clip.file_name if isinstance(clip, Audio) and clip.file_name else "voice.ogg"
    request = TranscriptionRequest(
        caller=caller,
        chat_id=conversation_id(message),
        audio=buffer.getvalue(),
        filename=name,
        declared_seconds=float(clip.duration) if clip.duration else None,
        event_id=event,
    )
    bind_request_id(request.request_id)
    transcript, _ = await tg.core.media.transcribe(request)
    return transcript


def _for_us(message: Message, tg: TelegramDeps) -> bool:
    if is_private(message):
        return True
    return replied_to_bot(message, tg.bot_id) or mentioned(message, tg.bot_id, tg.username)


async def voice(message: Message, tg: TelegramDeps, caller: Caller, event_update: Update) -> None:
    if not _for_us(message, tg):
        return  # a voice note between group members
    clip = message.voice or message.audio
    assert clip is not None
    t = await translator(tg.core, caller)
    async with action(message, "typing"):
        transcript = await _transcribe(tg, message, clip, caller, event_id(event_update))
    if not transcript.text.strip():
        await say(tg, message, t("telegram.no_speech"))
        return
    shown = Notice("reply.transcript", text=t("reply.transcript", text=transcript.text))
    answer_id = event_id(event_update, "answer")
    await answer(
        tg, message, caller, t, transcript.text, answer_id, before=(shown,), voice_input=True
    )


async def transcribe(
    message: Message, tg: TelegramDeps, caller: Caller, event_update: Update
) -> None:
    t = await translator(tg.core, caller)
    replied = message.reply_to_message
    clip = (replied.voice or replied.audio) if replied is not None else None
    if clip is None:
        await say(tg, message, t("telegram.transcribe_usage"))
        return
    async with action(message, "typing"):
        transcript = await _transcribe(tg, message, clip, caller, event_id(event_update))
    text = transcript.text.strip()
    await say(tg, message, t("reply.transcript", text=text) if text else t("telegram.no_speech"))


def build() -> Router:
    r = Router(name="telegram.media")
    r.message.register(image, Command("image"))
    r.message.register(tts, Command("tts"))
    r.message.register(transcribe, Command("transcribe"))
    r.message.register(voice, F.voice | F.audio)
    return r
