"""Files sent with a question: which kind each is, whether its size is allowed, and what
the upstream gets from it (downscaled pictures as image parts, documents as text).

``kind_of`` and ``size_refusal`` are the one table of file kinds: adapters call them with
what the platform declares (name, MIME type, size) to refuse before downloading anything,
and the core calls them again on the bytes it is handed (the console, the HTTP API).
Everything here runs before admission: a refusal costs nothing and reaches no upstream.

What is stored in the conversation is a marker per file (``[image: x.jpg]``,
``[document: y.pdf]``) with the person's words, never the bytes or the extracted text: a
follow-up question within the context window sees the marker, not the file again."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

from core.errors import FileTooLarge, UnsupportedFile
from core.services.config import CoreConfig
from core.services.documents import DocumentText, extract_text
from core.services.images_in import downscale
from core.services.requests import Attachment
from core.types import ImagePart


class FileKind(StrEnum):
    IMAGE = "image"
    DOCUMENT = "document"
    AUDIO = "audio"
    OTHER = "other"


IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"})
AUDIO_SUFFIXES = frozenset(
    {".ogg", ".oga", ".opus", ".mp3", ".m4a", ".wav", ".webm", ".flac", ".mp4"}
)
# Text people send to ask about: prose, data and source code. Read as UTF-8.
TEXT_SUFFIXES = frozenset(
    ".txt .md .markdown .rst .csv .tsv .json .jsonl .yaml .yml .toml .ini .cfg .log .xml "
    ".html .htm .css .sql .py .pyi .js .mjs .ts .tsx .jsx .java .kt .go .rs .c .h .cc .cpp "
    ".hpp .cs .rb .php .swift .sh .bash .zsh .ps1 .lua .r .scala .pl .ex .exs .hs .dart "
    ".vue .svelte .tex .diff .patch .proto .graphql .env.example".split()
)
TEXT_MIMES = frozenset(
    {"application/json", "application/xml", "application/x-yaml", "application/yaml",
     "application/toml", "application/javascript", "application/x-sh", "application/sql"}
)  # fmt: skip


def _mime(mime: str | None) -> str:
    return (mime or "").split(";")[0].strip().lower()


def label(name: str) -> str:
    """A file name as it may appear in a prompt or the stored context: one short line, no
    quotes or brackets that could close the tag around it."""
    cleaned = "".join(c if c.isprintable() and c not in '"<>[]' else "_" for c in name)
    return cleaned[:100] or "file"


def kind_of(name: str, mime: str | None = None) -> FileKind:
    """By the MIME type when the platform gives a telling one, else by the name's suffix
    (platforms label many text files ``application/octet-stream``)."""
    kind, suffix = _mime(mime), PurePath(name.lower()).suffix
    if kind.startswith("image/") and kind != "image/svg+xml":
        return FileKind.IMAGE
    if kind.startswith("audio/"):
        return FileKind.AUDIO
    if kind == "application/pdf" or suffix == ".pdf":
        return FileKind.DOCUMENT
    if kind.startswith("text/") or kind in TEXT_MIMES or suffix in TEXT_SUFFIXES:
        return FileKind.DOCUMENT
    if kind.startswith("video/"):
        return FileKind.OTHER
    if suffix in IMAGE_SUFFIXES:
        return FileKind.IMAGE
    if suffix in AUDIO_SUFFIXES:
        return FileKind.AUDIO
    return FileKind.OTHER


def size_limit(kind: FileKind, config: CoreConfig) -> int:
    if kind is FileKind.IMAGE:
        return config.max_image_bytes
    if kind is FileKind.DOCUMENT:
        return config.max_document_bytes
    return config.max_audio_bytes


def size_refusal(
    name: str, mime: str | None, size: int | None, config: CoreConfig
) -> FileTooLarge | UnsupportedFile | None:
    """What to answer instead of downloading a picture or document: not one of those
    kinds, or larger than its setting. ``size`` is the platform's declared size."""
    kind = kind_of(name, mime)
    if kind not in (FileKind.IMAGE, FileKind.DOCUMENT):
        return UnsupportedFile()
    limit = size_limit(kind, config)
    if size is not None and size > limit:
        return FileTooLarge(size_mb=f"{size / 2**20:.1f}", limit_mb=f"{limit / 2**20:g}")
    return None


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a question's files become: image parts, document text for the prompt, the
    marker stored in the conversation instead of them, and which documents were trimmed."""

    images: tuple[ImagePart, ...] = ()
    documents: tuple[DocumentText, ...] = ()

    def prompt_text(self, question: str) -> str:
        """The person's words followed by each document, fenced and labelled."""
        blocks = [question] if question else []
        for doc in self.documents:
            note = "\n[trimmed: only the beginning of the document is included]" * doc.trimmed
            blocks.append(f'<document name="{label(doc.name)}">\n{doc.text}\n</document>{note}')
        return "\n\n".join(blocks)


async def prepare(attachments: tuple[Attachment, ...], config: CoreConfig) -> Prepared:
    """Check, downscale and extract, off the event loop (Pillow and pypdf block).
    Raises the refusal for the first file that cannot be used."""
    for item in attachments:
        refusal = size_refusal(item.name, item.mime, len(item.data), config)
        if refusal is not None:
            raise refusal
    images = [a for a in attachments if kind_of(a.name, a.mime) is FileKind.IMAGE]
    documents = [a for a in attachments if kind_of(a.name, a.mime) is FileKind.DOCUMENT]
    parts = [await asyncio.to_thread(downscale, a.data, config.image_max_side) for a in images]
    texts = [await asyncio.to_thread(extract_text, a, config) for a in documents]
    return Prepared(tuple(parts), tuple(texts))


def stored_marker(attachments: tuple[Attachment, ...], question: str) -> str:
    """What the conversation keeps in place of the files: ``[image: a.jpg] question``."""
    labels = [f"[{kind_of(a.name, a.mime).value}: {label(a.name)}]" for a in attachments]
    return " ".join([*labels, question]).strip()


def image_tokens(image: ImagePart) -> int:
    """OpenAI's published cost of a high-detail picture: 85 tokens plus 170 per 512-pixel
    tile after fitting 2048×2048 and then 768 on the shorter side. Used only for the hold
    (the worst case); the charge comes from the upstream's reported usage."""
    fit = min(1.0, 2048 / max(image.width, image.height, 1))
    width, height = image.width * fit, image.height * fit
    shorter = min(1.0, 768 / max(min(width, height), 1))
    tiles = math.ceil(width * shorter / 512) * math.ceil(height * shorter / 512)
    return 85 + 170 * max(tiles, 1)
