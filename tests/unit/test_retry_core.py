"""The core side of answers cut by a dead worker, on in-memory storage: what an open
answer has produced is known to the heartbeat without any write per chunk, and
``ChatRequest(retry=True)`` asks the interrupted question again once, as a paid request."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InsufficientCredits, NothingToRetry
from core.money import MICRO
from core.services.leases import WorkerLease
from core.services.personas import parse_personas
from core.services.progress import HoldProgress
from core.services.requests import ChatRequest
from core.services.sweep import ReservationSweeper
from core.types import LedgerKind, Outcome, TextDelta, TextDone
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, collect, core_on, models_for_tests

TTL = timedelta(seconds=30)


@pytest.fixture
async def llm():
    async with FakeLLM() as server:
        yield server


def test_progress_reports_only_what_moved_since_it_was_written():
    progress = HoldProgress()
    made = {"a": 0, "b": 5}
    progress.track("a", lambda: made["a"])
    progress.track("b", lambda: made["b"])
    assert progress.changed() == {"b": 5}  # 0 is what the column holds already
    progress.written({"b": 5})
    assert progress.changed() == {}
    made["a"], made["b"] = 3, 9
    assert progress.changed() == {"a": 3, "b": 9}
    progress.done("a")
    progress.written({"a": 3, "b": 9})  # "a" settled meanwhile: not remembered
    assert progress.changed() == {}
    progress.track("a", lambda: 3)
    assert progress.changed() == {"a": 3}


async def _cut(core, store: MemoryStore, text: str, user: str = "1") -> str:
    """Stream part of an answer under a lease, beat, then let the lease run out and sweep."""
    uow = memory_uow_factory(store)
    now = datetime.now(UTC)
    lease = WorkerLease(uow, "w", TTL, ReservationSweeper(uow), progress=core.progress)
    await lease.renew()
    reply = await core.chat.start(ChatRequest(caller=caller(user), chat_id="c", text=text))
    async for event in reply.events:
        if isinstance(event, TextDelta) and len(event.full) > 40:
            break
    assert core.progress.changed()[reply.request_id] > 0  # known without a write
    await lease.renew()
    assert core.progress.changed() == {}
    later = now + TTL + timedelta(seconds=1)
    assert await ReservationSweeper(uow, clock=lambda: later).sweep_orphans() == 1
    await reply.aclose()
    assert core.progress.changed() == {} and reply.request_id not in core.progress._open
    return reply.request_id


async def test_retry_asks_the_interrupted_question_once_and_is_paid(llm):
    store = MemoryStore()
    llm.script(reply=" ".join(f"word{i}" for i in range(200)), delay=0.005)
    async with core_on(memory_uow_factory(store), llm.base_url, worker_id="w") as core:
        with pytest.raises(NothingToRetry):  # nothing interrupted yet
            await core.chat.start(ChatRequest(caller=caller("1"), chat_id="c", retry=True))
        cut = await _cut(core, store, "the question")
        llm.script(reply="again")
        retry = ChatRequest(caller=caller("1"), chat_id="c", retry=True, event_id="e1")
        events = await collect(core.chat.ask(retry))
        done = events[-1]
        assert isinstance(done, TextDone) and done.text == "again" and done.credits > 0
        assert llm.requests[-1].body["messages"][-1]["content"] == "the question"
        with pytest.raises(NothingToRetry):
            await core.chat.start(ChatRequest(caller=caller("1"), chat_id="c", retry=True))
        history = await core.conversations.history(caller("1"))
        assert [(h.question, h.answer) for h in history][:1] == [("the question", "again")]
        async with memory_uow_factory(store)() as uow:
            kinds = [e.kind for _, e in store.ledger if e.request_id == cut]
            assert kinds == [LedgerKind.HOLD, LedgerKind.SETTLE]
            account = await uow.accounts.find_by_identity(caller("1").identity)
            usage = await uow.usage.recent(account.id, 5)
        assert sorted(u.outcome.value for u in usage) == [Outcome.CUT.value, Outcome.OK.value]


async def test_a_retry_is_answered_with_the_chats_persona(llm):
    store = MemoryStore()
    personas = parse_personas(
        tomllib.loads(
            '[personas.pirate]\ndescription = "Arr"\nsystem_prompt = "Speak like a pirate."\n'
            'model = "chat-b"\n'
        ),
        models_for_tests(),
    )
    llm.script(reply=" ".join(f"word{i}" for i in range(200)), delay=0.005)
    async with core_on(
        memory_uow_factory(store), llm.base_url, worker_id="w", personas=personas
    ) as core:
        await core.chat_settings.choose_persona(caller("1"), "c", "pirate")
        await _cut(core, store, "the question")
        llm.script(reply="arr, again")
        await collect(core.chat.ask(ChatRequest(caller=caller("1"), chat_id="c", retry=True)))
    asked, retried = llm.requests_to("/chat/completions")
    assert asked.body["model"] == retried.body["model"] == "chat-b"
    system, *_, question = retried.body["messages"]
    assert system["content"].endswith("Speak like a pirate.")
    assert question == {"role": "user", "content": "the question"}


async def test_a_refused_retry_leaves_the_question_on_offer(llm):
    store = MemoryStore()
    llm.script(reply=" ".join(f"word{i}" for i in range(200)), delay=0.005)
    async with core_on(memory_uow_factory(store), llm.base_url, worker_id="w") as core:
        await _cut(core, store, "the question")
        account = await core.accounts.resolve(caller("1"))
        async with memory_uow_factory(store)() as uow:  # spend everything
            await uow.accounts.add_to_balance(account.id, -account.balance)
            await uow.commit()
        with pytest.raises(InsufficientCredits):
            await core.chat.start(ChatRequest(caller=caller("1"), chat_id="c", retry=True))
        async with memory_uow_factory(store)() as uow:
            await uow.accounts.add_to_balance(account.id, 50 * MICRO)
            await uow.commit()
        llm.script(reply="now")
        events = await collect(core.chat.ask(ChatRequest(caller("1"), "c", retry=True)))
        assert events[-1].text == "now"


async def test_two_retries_at_once_answer_once(llm):
    store = MemoryStore()
    llm.script(reply=" ".join(f"word{i}" for i in range(200)), delay=0.005)
    async with core_on(memory_uow_factory(store), llm.base_url, worker_id="w") as core:
        await _cut(core, store, "the question")
        llm.script(reply="once")

        async def retry() -> object:
            return await collect(core.chat.ask(ChatRequest(caller("1"), "c", retry=True)))

        results = await asyncio.gather(retry(), retry(), return_exceptions=True)
        assert sum(isinstance(r, NothingToRetry) for r in results) == 1
        assert sum(isinstance(r, list) and r[-1].text == "once" for r in results) == 1


async def test_another_person_or_chat_has_nothing_to_retry(llm):
    store = MemoryStore()
    llm.script(reply=" ".join(f"word{i}" for i in range(200)), delay=0.005)
    async with core_on(memory_uow_factory(store), llm.base_url, worker_id="w") as core:
        await _cut(core, store, "mine")
        for who, where in (("2", "c"), ("1", "elsewhere")):
            with pytest.raises(NothingToRetry):
                await core.chat.start(ChatRequest(caller=caller(who), chat_id=where, retry=True))
