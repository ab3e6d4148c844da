"""A client that vanishes is a cancellation at any await: during admission (after the
credits were reserved, before the reply existed) or while its reply is being closed. Either
way the hold is settled at once, not left to the sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bots.api.sink import admit
from core.services.chat_reply import ChatReply
from core.services.requests import ChatRequest
from core.types import LedgerKind
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on


@pytest.fixture
async def llm():
    async with FakeLLM() as server:
        yield server


async def open_holds(store: MemoryStore) -> int:
    async with memory_uow_factory(store)() as uow:
        return len(await uow.ledger.open_holds(datetime.now(UTC) + timedelta(hours=1)))


async def balance_is_ledger(core, store: MemoryStore) -> bool:
    account = await core.accounts.resolve(caller("1"))
    async with memory_uow_factory(store)() as uow:
        return account.balance == await uow.ledger.sum_for(account.id)


def ask() -> ChatRequest:
    return ChatRequest(caller=caller("1"), chat_id="c", text="hello there")


async def test_a_client_gone_during_admission_owes_nothing(llm):
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        reserved, go_on = asyncio.Event(), asyncio.Event()

        async def slow_start() -> ChatReply:
            reply = await core.chat.start(ask())  # committed: the hold exists
            reserved.set()
            await go_on.wait()  # the rest of admission, when the cancellation lands
            return reply

        handler = asyncio.create_task(admit(slow_start()))
        await reserved.wait()
        assert await open_holds(store) == 1
        handler.cancel()  # what aiohttp does when the client disconnects
        await asyncio.sleep(0)
        go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await handler
        assert await open_holds(store) == 0
        assert await balance_is_ledger(core, store)
        settles = [e for _, e in store.ledger if e.kind is LedgerKind.SETTLE]
        holds = [e for _, e in store.ledger if e.kind is LedgerKind.HOLD]
        assert sum(e.amount for e in settles) == -sum(e.amount for e in holds)  # all back
    assert llm.requests == []  # the model was never asked


async def test_a_cancellation_while_the_reply_closes_still_settles(llm):
    llm.script(reply=" ".join(f"w{i}" for i in range(50)), delay=0.01)
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        reply = await core.chat.start(ask())
        await anext(reply.events)  # mid-stream
        closer = asyncio.create_task(reply.aclose())
        await asyncio.sleep(0)  # the closer is now stopping the upstream
        closer.cancel()  # a second blow: the client's connection is lost meanwhile
        with pytest.raises(asyncio.CancelledError):
            await closer
        assert await open_holds(store) == 0
        assert await balance_is_ledger(core, store)
