"""A stopping worker: nothing new admitted, running answers stopped and settled."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import ShuttingDown
from core.services.requests import ChatRequest
from core.types import LedgerKind, Outcome
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, collect, core_on


async def test_drain_stops_ten_streams_and_settles_every_reservation():
    store = MemoryStore()
    async with FakeLLM() as llm, core_on(memory_uow_factory(store), llm.base_url) as core:
        llm.script(reply=" ".join(f"w{i}" for i in range(200)), delay=0.02)
        streams = [
            asyncio.create_task(
                collect(core.chat.ask(ChatRequest(caller=caller(str(n)), chat_id="c", text="hi")))
            )
            for n in range(10)
        ]
        await asyncio.sleep(0.3)
        assert await core.lifecycle.drain(grace_s=5) == 0
        results = await asyncio.gather(*streams)
        with pytest.raises(ShuttingDown):
            await collect(core.chat.ask(ChatRequest(caller=caller("99"), chat_id="c", text="late")))
    assert all(r[-1].outcome is Outcome.STOPPED and r[-1].text for r in results)
    holds = {e.request_id for _, e in store.ledger if e.kind is LedgerKind.HOLD}
    settles = {e.request_id for _, e in store.ledger if e.kind is LedgerKind.SETTLE}
    assert len(holds) == 10 and holds == settles
