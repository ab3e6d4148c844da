"""File kinds every adapter shares: the extension a sent file gets from its MIME type,
which received files count as audio to transcribe, and which pictures and documents are
refused before download (the table itself is the core's, ``core.services.attachments``)."""

from __future__ import annotations

from pathlib import PurePath

from core.errors import FileTooLarge, UnsupportedFile
from core.services.attachments import FileKind, kind_of, size_limit, size_refusal
from core.services.config import CoreConfig

EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
}
AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".mp3", ".m4a", ".wav", ".webm", ".flac", ".mp4")


def extension_for(mime: str) -> str:
    return EXTENSIONS.get(mime, "bin")


def looks_like_audio(filename: str, mime: str | None = None) -> bool:
    """By the MIME type when the platform gives one (a ``video/mp4`` is not audio, whatever
    its name), else by the file name's suffix."""
    kind = (mime or "").split(";")[0].strip().lower()
    if kind:
        return kind.startswith("audio/")
    return PurePath(filename.lower()).suffix in AUDIO_SUFFIXES


def is_picture_or_document(filename: str, mime: str | None = None) -> bool:
    return kind_of(filename, mime) in (FileKind.IMAGE, FileKind.DOCUMENT)


def refusal_before_download(
    filename: str, mime: str | None, size: int | None, config: CoreConfig
) -> FileTooLarge | UnsupportedFile | None:
    """The answer to give instead of downloading a file sent with a question: not a
    picture or document, or over ``MAX_IMAGE_MB`` / ``MAX_DOCUMENT_MB``."""
    return size_refusal(filename, mime, size, config)


def download_limit(filename: str, mime: str | None, config: CoreConfig) -> int:
    """How many bytes of a picture or document to read at most (its size setting)."""
    return size_limit(kind_of(filename, mime), config)
