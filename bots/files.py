"""File kinds every adapter shares: the extension a sent file gets from its MIME type, and
which received files count as audio to transcribe."""

from __future__ import annotations

from pathlib import PurePath

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
