"""A broadcast to 1,000 people through the fake Telegram Bot API (which answers 429 past
Telegram's limits) by a real worker process that is SIGKILLed a third of the way, then
finished by a second worker once the dead one's lease ran out: everyone gets it, at most
one person twice (the message in flight at the kill), and Telegram never said 429."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.telegram_harness import BOT_ID, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.ops.broadcast_fill import FIRST_PERSON, broadcast_counts, confirmed_broadcast
from tests.ops.test_worker_signals import start_worker

pytestmark = pytest.mark.slow

PEOPLE = 1000
TEXT = "The bot moves to a new server tonight at 22:00."


def received(server: FakeTelegramServer) -> Counter[int]:
    return Counter(
        chat
        for (chat, _), m in server.messages.items()
        if m.get("text") == TEXT and m["from"].get("id") == BOT_ID
    )


async def test_broadcast_to_1000_survives_a_kill_without_a_429(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/worker.db"
    draft = await confirmed_broadcast(url, PEOPLE, TEXT)
    assert draft.people == PEOPLE + 1  # and the admin
    extra = {"BOT_ADMINS": "telegram:1", "BROADCAST_LEASE": "3"}
    async with FakeLLM() as llm, FakeTelegramServer() as server:
        first = await start_worker(tmp_path, llm, server, **extra)
        try:
            await until(lambda: len(received(server)) >= 300, within=90, what="300 delivered")
            first.send_signal(signal.SIGKILL)
            await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        at_kill = len(received(server))
        assert at_kill < PEOPLE  # killed with most of the list still to go
        second = await start_worker(tmp_path, llm, server, **extra)
        try:
            await until(lambda: len(received(server)) == PEOPLE + 1, within=120, what="everyone")
            state = await _finished(url, draft.id)
            await until(lambda: _report(server), within=30, what="the report to the admin")
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=45)
    counts = received(server)
    assert set(counts) == {1, *(FIRST_PERSON + i for i in range(PEOPLE))}
    assert sum(counts.values()) - len(counts) <= 1  # only the message in flight at the kill
    assert server.too_many_requests == 0
    assert state == {"delivered": PEOPLE + 1}
    assert f"{PEOPLE + 1} delivered, 0 failed, 0 blocked" in _report(server)


def _report(server: FakeTelegramServer) -> str:
    texts = [m.get("text", "") for (chat, _), m in server.messages.items() if chat == 1]
    return next((text for text in texts if "Broadcast #" in text), "")


async def _finished(url: str, broadcast_id: int) -> dict[str, int]:
    for _ in range(200):
        state, counts = await broadcast_counts(url, broadcast_id)
        if state == "done":
            return counts
        await asyncio.sleep(0.25)
    raise AssertionError("the broadcast never finished")
