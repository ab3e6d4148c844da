"""A client that vanishes is a cancellation at any await: during admission (after the
credits were reserved, before the reply existed) or while its reply is being closed. Either
way the hold is settled at once, not left to the sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

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
    reserved, go_on = asyncio.Event(), asyncio.Event()
    memory = memory_uow_factory(store)

    def pausing_after_the_hold(*, atomic: bool = True):
        # The hold's commit went through; the rest of admission is still to come when the
        # cancellation lands (as when a client leaves while the commit's reply is in flight).
        uow = memory()
        commit = uow.commit

        async def commit_then_pause() -> None:
            await commit()
            if not reserved.is_set() and any(e.kind is LedgerKind.HOLD for _, e in store.ledger):
                reserved.set()
                await go_on.wait()

        uow.commit = commit_then_pause
        return uow

    async with core_on(pausing_after_the_hold, llm.base_url) as core:
        handler = asyncio.create_task(core.chat.start(ask()))
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
