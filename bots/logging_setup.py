"""Logging for the whole process: one handler on the root logger, with a filter that
replaces every configured secret before a record is written anywhere, and one that stamps
each record with the id of the request being served (``LOG_FORMAT=json`` writes one JSON
object per line, for log collectors). The console chat logs to a file instead
(``log_to_file``), its terminal showing only warnings and errors."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from core.observability import request_id_var

REDACTED = "***"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class RequestId(logging.Filter):
    """Adds ``record.request_id``: the request the logging code was serving, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Put it after ``RedactSecrets``: it formats the record's
    message and traceback as that filter left them."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def make_handler(
    secrets: Iterable[str],
    fmt: str = "text",
    stream: TextIO | None = None,
    *,
    handler: logging.Handler | None = None,
) -> logging.Handler:
    """A handler (stderr by default) with both filters; the secrets one runs first."""
    handler = handler or logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(RequestId())
    return handler


def configure_logging(level: str, secrets: Iterable[str], fmt: str = "text") -> None:
    handler = make_handler(secrets, fmt)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's access log and SQL echo are noise at INFO.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def log_to_file(
    path: Path, secrets: Iterable[str], fmt: str = "text", terminal_level: int = logging.WARNING
) -> logging.Handler:
    """For the console chat, whose terminal is the conversation: every record goes to
    ``path`` (redacted like everywhere else), and the handlers already on the root logger
    (the terminal's) keep only ``terminal_level`` and up. Returns the file handler."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = make_handler(secrets, fmt, handler=logging.FileHandler(path, encoding="utf-8"))
    root = logging.getLogger()
    for old in root.handlers:
        if type(old) is logging.StreamHandler:
            old.setLevel(max(old.level, terminal_level))
    root.addHandler(handler)
    return handler
