"""The settlement journal: an append-only JSON-lines file, fsync'd after every line.

One line per event: ``{"op": "add", ...}`` when a settlement could not be written, and
``{"op": "done", "request_id": ...}`` once the database took it. What is pending is the
adds without a later done. When nothing is pending the file is emptied, so it stays small.
Every operation holds an exclusive ``flock`` on the file, so workers sharing a data dir
do not interleave; a line torn by a crash is skipped (its settlement was never promised
as durable: ``add`` had not returned)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.ports import PendingSettlement
from core.types import ConversationKey, Feature, Outcome

logger = logging.getLogger(__name__)


def _to_json(p: PendingSettlement) -> dict[str, Any]:
    conversation = p.conversation
    return {
        "op": "add",
        "account_id": p.account_id,
        "request_id": p.request_id,
        "reserved": p.reserved,
        "platform": p.platform,
        "feature": p.feature.value,
        "model": p.model,
        "charge": p.charge,
        "outcome": p.outcome.value,
        "prompt_tokens": p.prompt_tokens,
        "completion_tokens": p.completion_tokens,
        "answered_by": p.answered_by,
        "conversation": None
        if conversation is None
        else [conversation.platform, conversation.chat_id, conversation.account_id],
        "question": p.question,
        "answer": p.answer,
        "replaces": p.replaces,
        "api_key_id": p.api_key_id,
        "key_reserved": p.key_reserved,
    }


def _from_json(d: dict[str, Any]) -> PendingSettlement:
    conversation = d.get("conversation")
    return PendingSettlement(
        account_id=int(d["account_id"]),
        request_id=str(d["request_id"]),
        reserved=int(d["reserved"]),
        platform=str(d["platform"]),
        feature=Feature(d["feature"]),
        model=str(d["model"]),
        charge=int(d["charge"]),
        outcome=Outcome(d["outcome"]),
        prompt_tokens=int(d.get("prompt_tokens", 0)),
        completion_tokens=int(d.get("completion_tokens", 0)),
        answered_by=d.get("answered_by"),
        conversation=None
        if conversation is None
        else ConversationKey(str(conversation[0]), str(conversation[1]), int(conversation[2])),
        question=d.get("question"),
        answer=d.get("answer"),
        replaces=d.get("replaces"),
        api_key_id=None if d.get("api_key_id") is None else int(d["api_key_id"]),
        key_reserved=int(d.get("key_reserved", 0)),
    )


class FileSettlementJournal:
    """``SettlementJournal`` in a local file (created with its folder, mode 0600: it holds
    the question and answer that go into the conversation history)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()

    async def add(self, pending: PendingSettlement) -> None:
        async with self._lock:
            await asyncio.to_thread(self._append, [_to_json(pending)])

    async def done(self, request_id: str) -> None:
        async with self._lock:
            await asyncio.to_thread(self._finish, request_id)

    async def pending(self) -> list[PendingSettlement]:
        async with self._lock:
            return await asyncio.to_thread(self._read)

    @contextmanager
    def _locked(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # releases the lock

    def _append(self, lines: list[dict[str, Any]]) -> None:
        with self._locked() as fd:
            self._write(fd, lines)

    @staticmethod
    def _write(fd: int, lines: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        os.write(fd, data.encode("utf-8"))
        os.fsync(fd)

    def _fold(self, fd: int) -> dict[str, PendingSettlement]:
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        pending: dict[str, PendingSettlement] = {}
        for number, raw in enumerate(b"".join(chunks).splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                if line["op"] == "add":
                    entry = _from_json(line)
                    pending[entry.request_id] = entry
                elif line["op"] == "done":
                    pending.pop(str(line["request_id"]), None)
            except (ValueError, KeyError, TypeError, IndexError):
                logger.warning(
                    "settlement journal %s: line %d unreadable, skipped", self.path, number
                )
        return pending

    def _read(self) -> list[PendingSettlement]:
        if not self.path.exists():
            return []
        with self._locked() as fd:
            return list(self._fold(fd).values())

    def _finish(self, request_id: str) -> None:
        with self._locked() as fd:
            self._write(fd, [{"op": "done", "request_id": request_id}])
            if not self._fold(fd):
                os.ftruncate(fd, 0)
                os.fsync(fd)
