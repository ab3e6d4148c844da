"""The picture in the message a question replies to (a photo, or an image sent as a
file), downloaded so the core can send it to a vision model with the quote. The person
did not send it with this question: one Telegram refuses, or one too large for
``MAX_IMAGE_MB``, is left out (logged) and the quote's words still go."""

from __future__ import annotations

import io
import logging
from dataclasses import replace

from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message

from bots.files import refusal_before_download
from bots.telegram.deps import bot_of
from core.services.attachments import FileKind, kind_of
from core.services.config import CoreConfig
from core.services.requests import Attachment, Quote

logger = logging.getLogger(__name__)

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API serves no bigger file


def _picture_of(reply: Message) -> tuple[str, str, str, int | None] | None:
    """(file id, name, MIME type, declared size) of the replied-to message's picture."""
    if reply.photo:
        largest = reply.photo[-1]
        return largest.file_id, f"photo-{reply.message_id}.jpg", "image/jpeg", largest.file_size
    document = reply.document
    if document is None:
        return None
    name = document.file_name or f"file-{reply.message_id}"
    if kind_of(name, document.mime_type) is not FileKind.IMAGE:
        return None
    return document.file_id, name, document.mime_type or "", document.file_size


async def with_quoted_picture(
    message: Message, quotes: tuple[Quote, ...], config: CoreConfig
) -> tuple[Quote, ...]:
    """``quotes`` (Telegram's one level of reply) with the replied-to picture added."""
    reply = message.reply_to_message
    described = _picture_of(reply) if reply is not None and quotes else None
    if described is None:
        return quotes
    file_id, name, mime, size = described
    refused = refusal_before_download(name, mime or None, size, config) is not None
    if refused or (size is not None and size > DOWNLOAD_LIMIT):
        logger.info("quoted picture left out: %s bytes", size)
        return quotes
    buffer = io.BytesIO()
    try:
        await bot_of(message).download(file_id, destination=buffer)
    except TelegramAPIError as exc:
        logger.info("quoted picture left out: download refused (%s)", type(exc).__name__)
        return quotes
    picture = Attachment(name=name, data=buffer.getvalue(), mime=mime or None)
    return (replace(quotes[0], images=(picture,)), *quotes[1:])
