"""Text from the outside world, made storable once at the edge.

PostgreSQL refuses NUL in ``text`` (and ``\\u0000`` in ``jsonb``), and a lone UTF-16
surrogate (``"\\ud800"``, which JSON may carry and Python keeps) cannot be encoded as
UTF-8 at all, so neither the database, the model's HTTP client nor a log line can take it.
``clean_text`` removes NUL and turns every lone surrogate into U+FFFD; a surrogate pair
written as two escapes becomes the one character it stands for. Everything else is kept
as sent: bidi marks and zero-width characters are ordinary (if invisible) text in many
languages, and other control characters are stored fine.

The requests and callers in ``core.services.requests`` apply it as they are built, so
every adapter's input passes through it before anything is reserved."""

from __future__ import annotations

import re

__all__ = ["clean_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without NUL and with lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _SURROGATE.search(text) is not None:
        # Through UTF-16: a high+low pair joins into its character, a lone half is replaced.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
