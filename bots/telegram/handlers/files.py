"""Pictures and documents with a question: photos, image files and documents (PDF, text,
code), alone or as an album. Each file is refused before download when its kind or its
declared size says so; the downloaded files go with the caption to the chat use case.

An album arrives as one update per item, moments apart, sharing a ``media_group_id``: the
first item's handler waits until no more arrive for ``ALBUM_WAIT_S`` and asks one question
with every file; the others return at once. The gathering is per process (a webhook
spread over several workers may split an album: each part is then answered alone)."""

from __future__ import annotations

import asyncio
import io

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message, Update

from bots.files import refusal_before_download
from bots.language import translator
from bots.telegram.deps import TelegramDeps, bot_of
from bots.telegram.handlers.replies import action, answer
from bots.telegram.mapping import addressed_text, event_id, is_private, message_text
from core.errors import DownloadFailed, FileTooLarge
from core.services.requests import Attachment, Caller

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API serves no bigger file
ALBUM_WAIT_S = 1.0


class Albums:
    """The items of media groups still arriving, per chat and group id."""

    def __init__(self, wait_s: float = ALBUM_WAIT_S) -> None:
        self._wait_s = wait_s
        self._open: dict[str, list[Message]] = {}

    async def gather(self, message: Message) -> list[Message] | None:
        """Every item of the album, for the handler of its first item; None for the rest."""
        key = f"{message.chat.id}:{message.media_group_id}"
        items = self._open.get(key)
        if items is not None:
            items.append(message)
            return None
        items = self._open[key] = [message]
        try:
            seen = 0
            while len(items) != seen:  # quiet for a whole wait: the album is complete
                seen = len(items)
                await asyncio.sleep(self._wait_s)
        finally:
            del self._open[key]
        return sorted(items, key=lambda m: m.message_id)


def _described(message: Message) -> tuple[str, str, str | None, int | None]:
    """(file id, name, MIME type, declared size) of a message's photo or document."""
    if message.photo:
        largest = message.photo[-1]
        return largest.file_id, f"photo-{message.message_id}.jpg", "image/jpeg", largest.file_size
    document = message.document
    assert document is not None
    name = document.file_name or f"file-{message.message_id}"
    return document.file_id, name, document.mime_type, document.file_size


async def _download(tg: TelegramDeps, message: Message) -> Attachment:
    file_id, name, mime, size = _described(message)
    refusal = refusal_before_download(name, mime, size, tg.core.config)
    if refusal is None and size is not None and size > DOWNLOAD_LIMIT:
        refusal = FileTooLarge(size_mb=f"{size / 2**20:.1f}", limit_mb="20")
    if refusal is not None:
        raise refusal
    buffer = io.BytesIO()
    try:
        await bot_of(message).download(file_id, destination=buffer)
    except TelegramBadRequest as exc:
        if "too big" in exc.message:
            raise FileTooLarge(size_mb="> 20", limit_mb="20") from exc
        raise DownloadFailed() from exc
    except TelegramAPIError as exc:
        raise DownloadFailed() from exc
    return Attachment(name=name, data=buffer.getvalue(), mime=mime)


def _question(items: list[Message], tg: TelegramDeps) -> str | None:
    """The caption(s); in a group None unless one item mentions the bot or replies to it."""
    if is_private(items[0]):
        return "\n".join(filter(None, (message_text(m).strip() for m in items)))
    asked = [addressed_text(m, tg.bot_id, tg.username) for m in items]
    if all(q is None for q in asked):
        return None  # pictures shared between members
    return "\n".join(filter(None, asked))


async def attachment(
    message: Message, tg: TelegramDeps, caller: Caller, event_update: Update, albums: Albums
) -> None:
    items = [message] if message.media_group_id is None else await albums.gather(message)
    if items is None:
        return
    question = _question(items, tg)
    if question is None:
        return
    t = await translator(tg.core, caller)
    async with action(message, "typing"):
        files = tuple([await _download(tg, m) for m in items])
    await answer(tg, message, caller, t, question, event_id(event_update), attachments=files)


def build() -> Router:
    r = Router(name="telegram.files")
    r.message.register(attachment, F.photo | (F.document & ~F.animation))
    return r
