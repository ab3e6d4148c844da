"""The backup file: gzip-compressed JSON lines.

Line 1 is the header (format name and version, Alembic revision, tables with their
columns and row counts); then one line per row, ``[table, [values...]]``; the last line
is ``{"sha256": ...}`` over the bytes of every line before it. A file without that
trailer (truncated), whose hash or row counts disagree (tampered), or that gzip or JSON
cannot read (damaged) is refused with a one-line ``BackupError``.

Everything here is blocking file work: the async callers run it in a thread."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

FORMAT = "switchboard-backup"
VERSION = 1
JsonRow = list[Any]


class BackupError(Exception):
    """One line, fit to print: why a backup or restore cannot go on."""


@dataclass(frozen=True, slots=True)
class TableInfo:
    name: str
    columns: tuple[str, ...]
    rows: int


@dataclass(frozen=True, slots=True)
class Header:
    revision: str
    created_at: str
    source: str
    tables: tuple[TableInfo, ...]

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        tables = [{"name": t.name, "columns": list(t.columns), "rows": t.rows} for t in self.tables]
        return {
            "format": FORMAT,
            "version": VERSION,
            "revision": self.revision,
            "created_at": self.created_at,
            "source": self.source,
            "tables": tables,
        }

    @classmethod
    def from_json(cls, data: object) -> Header:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("not a Switchboard backup file")
        if data.get("version") != VERSION:
            raise BackupError(
                f"backup format version {data.get('version')} is not supported (this "
                f"Switchboard reads version {VERSION})"
            )
        try:
            tables = tuple(
                TableInfo(str(t["name"]), tuple(str(c) for c in t["columns"]), int(t["rows"]))
                for t in data["tables"]
            )
            return cls(str(data["revision"]), str(data["created_at"]), str(data["source"]), tables)
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError("the backup header is damaged") from exc


def encode(value: object) -> object:
    """A JSON value that ``decode`` turns back into exactly ``value``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    raise BackupError(f"cannot export a value of type {type(value).__name__}")


_DECODERS: dict[str, Callable[[str], object]] = {
    "$dt": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$b64": base64.b64decode,
    "$dec": Decimal,
}


def decode(value: object) -> object:
    if isinstance(value, dict):
        ((tag, raw),) = value.items()
        return _DECODERS[tag](raw)
    return value


def _line(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class BackupWriter:
    """Writes to ``<path>.partial`` and renames on ``finish``: a failed backup never
    leaves a file under the final name."""

    def __init__(self, path: Path, header: Header) -> None:
        self._path = path
        self._partial = path.with_name(path.name + ".partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = gzip.GzipFile(self._partial, "wb", compresslevel=6)
        self._hash = hashlib.sha256()
        self._write(_line(header.to_json()))

    def _write(self, data: bytes) -> None:
        self._hash.update(data)
        self._file.write(data)

    def rows(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        self._write(b"".join(_line([table, [encode(v) for v in row]]) for row in rows))

    def finish(self) -> None:
        self._file.write(_line({"sha256": self._hash.hexdigest()}))
        self._file.close()
        os.replace(self._partial, self._path)

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)


def _raw_lines(path: Path) -> Iterator[bytes]:
    try:
        with gzip.open(path, "rb") as file:
            yield from file
    except FileNotFoundError:
        raise BackupError(f"no such file: {path}") from None
    except EOFError:
        raise BackupError(f"{path} is truncated (the compressed stream ends early)") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise BackupError(f"{path} is damaged: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse(raw: bytes, path: Path) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise BackupError(f"{path} is damaged (a line is not valid JSON)") from None


def read_backup(path: Path) -> Iterator[Header | tuple[str, JsonRow]]:
    """The header, then ``(table, values)`` per row, each checked against the header;
    the checksum and row counts are checked when the trailer is reached, so only a
    consumer that reads to the end knows the file is whole (see ``verify``)."""
    lines = _raw_lines(path)
    digest = hashlib.sha256()
    first = next(lines, None)
    if first is None:
        raise BackupError(f"{path} is empty")
    digest.update(first)
    header = Header.from_json(_parse(first, path))
    yield header
    expected = {t.name: t for t in header.tables}
    seen = dict.fromkeys(expected, 0)
    for raw in lines:
        item = _parse(raw, path)
        if isinstance(item, dict) and "sha256" in item:
            _check_end(path, lines, digest, item, header, seen)
            return
        digest.update(raw)
        if not (isinstance(item, list) and len(item) == 2 and item[0] in expected):
            raise BackupError(f"{path} is damaged (a row names no table of the header)")
        table, values = item
        if not isinstance(values, list) or len(values) != len(expected[table].columns):
            raise BackupError(f"{path} is damaged (a row of {table} has the wrong shape)")
        seen[table] += 1
        try:
            decoded = [decode(v) for v in values]
        except (KeyError, ValueError, TypeError, ArithmeticError):
            raise BackupError(f"{path} is damaged (a value of {table} cannot be read)") from None
        yield table, decoded
    raise BackupError(f"{path} is truncated (no checksum line at the end)")


def _check_end(
    path: Path,
    rest: Iterator[bytes],
    digest: Any,
    trailer: dict[str, Any],
    header: Header,
    seen: dict[str, int],
) -> None:
    if next(rest, None) is not None:
        raise BackupError(f"{path} is damaged (data after the checksum line)")
    if trailer["sha256"] != digest.hexdigest():
        raise BackupError(f"{path} fails its checksum: the file was changed or damaged")
    for table in header.tables:
        if seen[table.name] != table.rows:
            raise BackupError(
                f"{path} is damaged: {table.name} has {seen[table.name]} rows, "
                f"the header says {table.rows}"
            )


def verify(path: Path) -> Header:
    """Read the whole file; its header if it is whole and unchanged."""
    items = read_backup(path)
    header = next(items)
    assert isinstance(header, Header)
    for _ in items:
        pass
    return header
