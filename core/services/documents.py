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


# No token is longer than this many characters in practice: reading a PDF or trimming a
# text never looks past ``document_tokens`` times this.
MAX_CHARS_PER_TOKEN = 16


def extract_text(item: Attachment, config: CoreConfig) -> DocumentText:
    budget = config.document_tokens
    budget_bytes = budget * MAX_CHARS_PER_TOKEN
    is_pdf = (item.mime or "").startswith("application/pdf") or PurePath(
        item.name.lower()
    ).suffix == ".pdf"
    if is_pdf:
        text = _pdf_text(item, config.max_document_pages, budget_bytes)
    else:
        text = _plain_text(item)
    tokens = estimate_tokens(text[: budget * MAX_CHARS_PER_TOKEN + 1])
    if tokens <= budget and len(text) <= budget * MAX_CHARS_PER_TOKEN:
        return DocumentText(item.name, text, False, tokens)
    text = _prefix_within(text, budget)
    return DocumentText(item.name, text, True, estimate_tokens(text))


def _prefix_within(text: str, budget: int) -> str:
    """The longest prefix of ``text`` of at most ``budget`` tokens, by bisection on its
    length (whatever ``estimate_tokens`` counts with: about twenty counts of short text)."""
    low, high = 0, min(len(text), budget * MAX_CHARS_PER_TOKEN)
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low]


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
