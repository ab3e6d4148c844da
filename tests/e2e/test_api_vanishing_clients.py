"""Clients that vanish: many HTTP clients ask for a stream (/ask as SSE and
/v1/chat/completions with stream=true) and go away at random moments — while sending,
before the headers came, mid-stream, politely or with a reset. Every request they had
admitted settles at once: no open hold remains, every balance equals its ledger, and the
logs carry no traceback, no "unhandled" error and no "Task exception was never retrieved"."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.api_harness import Api, running_api

USERS = 6
CLIENTS = 150
SETTLE_WITHIN_S = 2.0
MODES = ("while_sending", "before_headers", "after_headers", "mid_stream", "reset", "complete")
BAD_WORDS = ("traceback", "unhandled", "task exception was never retrieved")


def _request(path: str, token: str, body: dict[str, Any], sse: bool) -> bytes:
    data = json.dumps(body).encode()
    head = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {len(data)}",
        "Connection: close",
    ]
    if sse:
        head.append("Accept: text/event-stream")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


async def _vanishing_client(api: Api, token: str, index: int, rng: random.Random) -> str:
    """One client: sends a streaming request and leaves as its mode says. Returns the mode."""
    mode = MODES[index % len(MODES)]
    if index % 2:
        payload = _request("/ask", token, {"text": f"question {index}"}, sse=True)
    else:
        body = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"question {index}"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        payload = _request("/v1/chat/completions", token, body, sse=False)
    port = int(api.base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if mode == "while_sending":  # half a request, then gone
            writer.write(payload[: rng.randint(1, len(payload) - 1)])
            await writer.drain()
            await asyncio.sleep(rng.uniform(0, 0.05))
            return mode
        writer.write(payload)
        await writer.drain()
        if mode == "before_headers":
            await asyncio.sleep(rng.uniform(0, 0.05))
            return mode
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        if mode == "after_headers":
            return mode
        if mode in ("mid_stream", "reset"):
            await reader.read(rng.randint(1, 400))
            await asyncio.sleep(rng.uniform(0, 0.2))
            if mode == "reset":
                writer.transport.abort()  # RST, not FIN
            return mode
        rest = await reader.read()  # "complete": read to the end, as a control
        assert b"done" in rest or b"[DONE]" in rest, rest[-200:]
        return mode
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _ledger_state(api: Api, account_ids: list[int]) -> tuple[int, list[str]]:
    """(open holds, accounts whose balance differs from their ledger sum)."""
    async with api.app.uow() as uow:
        holds = await uow.ledger.open_holds(datetime.now(UTC) + timedelta(hours=1))
        wrong: list[str] = []
        for account_id in account_ids:
            account = await uow.accounts.get(account_id)
            assert account is not None
            total = await uow.ledger.sum_for(account_id)
            if account.balance != total:
                wrong.append(f"#{account_id}: balance {account.balance} != ledger {total}")
    return len(holds), wrong


class _Problems(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info or any(word in text.lower() for word in BAD_WORDS):
            self.found.append(f"{record.name} {record.levelname}: {self.format(record)}")


async def test_vanishing_clients_settle_at_once_sqlite(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await _vanishing_clients(sqlite_url, caplog)


@pytest.mark.postgres
async def test_vanishing_clients_settle_at_once_postgres(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await _vanishing_clients(pg_url, caplog)


async def _vanishing_clients(url: str, caplog: pytest.LogCaptureFixture) -> None:
    problems = _Problems()
    root = logging.getLogger()
    root.addHandler(problems)
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()
    loop_errors: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: loop_errors.append(str(context)))
    try:
        async with running_api(url, welcome_credits="1000000") as api:
            api.llm.script(reply=" ".join(f"w{i}" for i in range(60)), delay=0.01)
            users = [await api.user(f"vanish{i}") for i in range(USERS)]
            rng = random.Random(11)
            clients = [_vanishing_client(api, users[i % USERS][1], i, rng) for i in range(CLIENTS)]
            modes = await asyncio.gather(*clients)
            assert sorted(set(modes)) == sorted(MODES)
            deadline = time.monotonic() + SETTLE_WITHIN_S
            state = await _ledger_state(api, [account_id for account_id, _ in users])
            while state != (0, []) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                state = await _ledger_state(api, [account_id for account_id, _ in users])
            assert state == (0, []), f"{SETTLE_WITHIN_S} s after the last client left: {state}"
            assert api.llm.requests_to("/chat/completions")  # the model was really asked
        gc.collect()  # "Task exception was never retrieved" is reported when a task dies
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
        root.removeHandler(problems)
    # Known and NOT fixed here: asyncpg leaves the future of an SSL negotiation unretrieved
    # when the task opening a connection is cancelled (MagicStack/asyncpg#1310, #1312):
    # "Future exception was never retrieved ... unexpected connection_lost() call".
    # Everything else the loop reports fails the test.
    assert [e for e in loop_errors if "unexpected connection_lost() call" not in e] == []
    assert problems.found == []
