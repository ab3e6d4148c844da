"""Documents sent to the bot, turned into text for the prompt: PDF pages through pypdf,
everything else read as UTF-8 text. The text is trimmed to ``document_tokens`` (with
``trimmed`` set, so the prompt and the person are told). Blocking: call it through
``asyncio.to_thread``."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import PurePath

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from core.errors import BadDocument, DocumentHasNoText, DocumentTooManyPages
from core.money import estimate_tokens
from core.services.config import CoreConfig
from core.services.requests import Attachment
from core.text_input import clean_text

logger = logging.getLogger(__name__)

# A malformed PDF can fail deep inside pypdf with any of these; each means "unreadable".
_PDF_FAILURES = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    RecursionError,
)


@dataclass(frozen=True, slots=True)
class DocumentText:
    name: str
    text: str
    trimmed: bool
    tokens: int


def extract_text(item: Attachment, config: CoreConfig) -> DocumentText:
    budget_bytes = config.document_tokens * 4  # estimate_tokens counts 4 bytes a token
    is_pdf = (item.mime or "").startswith("application/pdf") or PurePath(
        item.name.lower()
    ).suffix == ".pdf"
    if is_pdf:
        text = _pdf_text(item, config.max_document_pages, budget_bytes)
    else:
        text = _plain_text(item)
    encoded = text.encode("utf-8")
    trimmed = len(encoded) > budget_bytes
    if trimmed:
        text = encoded[:budget_bytes].decode("utf-8", errors="ignore")
    return DocumentText(item.name, text, trimmed, estimate_tokens(text))


def _plain_text(item: Attachment) -> str:
    if b"\x00" in item.data[:8192]:
        raise BadDocument(name=item.name)  # binary, whatever its name says
    return clean_text(item.data.decode("utf-8-sig", errors="replace"))


def _pdf_text(item: Attachment, max_pages: int, budget_bytes: int) -> str:
    """Pages in order until the budget is passed: a long PDF is not read to its end.
    pypdf caps what one compressed stream may inflate to, which defuses zip-bomb streams;
    the page limit is checked before any page is read."""
    try:
        reader = PdfReader(io.BytesIO(item.data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadDocument(name=item.name)
        pages = len(reader.pages)
        if pages > max_pages:
            raise DocumentTooManyPages(pages=pages, limit=max_pages)
        texts: list[str] = []
        size = 0
        for page in reader.pages:
            piece = clean_text(page.extract_text() or "").strip()
            texts.append(piece)
            size += len(piece.encode("utf-8"))
            if size > budget_bytes:
                break
    except (BadDocument, DocumentTooManyPages):
        raise
    except _PDF_FAILURES as exc:
        logger.info("unreadable PDF %r: %s", item.name, type(exc).__name__)
        raise BadDocument(name=item.name) from exc
    text = "\n\n".join(t for t in texts if t)
    if not text.strip():
        raise DocumentHasNoText(name=item.name)
    return text
