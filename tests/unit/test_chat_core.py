"""The chat use case end to end over the fake LLM, on in-memory storage."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from core.errors import (
    Banned,
    DuplicateEvent,
    EmptyInput,
    InputTooLong,
    InsufficientCredits,
    NotAllowed,
    RateLimited,
    TooManyInFlight,
    UnknownModel,
    UpstreamBadRequest,
    UpstreamError,
)
from core.money import MICRO, estimate_tokens, price_of
from core.services.chat import estimate_prompt_tokens
from core.services.config import RoleLimits
from core.services.requests import ChatRequest
from core.types import ChatMessage, LedgerKind, Outcome, Role, TextDelta, TextDone
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, collect, core_on, with_config

IN, OUT = 10 * MICRO, 20 * MICRO  # chat-a: sub-units per 1,000 tokens


@pytest.fixture
async def llm():
    async with FakeLLM() as server:
        yield server


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


async def balance_and_ledger(store: MemoryStore, account_id: int) -> tuple[int, int]:
    async with memory_uow_factory(store)() as uow:
        account = await uow.accounts.get(account_id)
        assert account is not None
        return account.balance, await uow.ledger.sum_for(account_id)


def ask(text: str, user: str = "1", **kw) -> ChatRequest:
    return ChatRequest(caller=caller(user), chat_id=kw.pop("chat_id", "chat1"), text=text, **kw)


async def test_streams_and_charges_real_usage(llm, store):
    llm.script(reply="Hello there, my friend")
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        events = await collect(core.chat.ask(ask("hi")))
        account = await core.accounts.resolve(caller("1"))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    done = events[-1]
    assert isinstance(done, TextDone) and done.outcome is Outcome.OK
    assert "".join(d.text for d in deltas) == done.text == "Hello there, my friend"
    assert len(deltas) == 4  # one chunk per word from the fake
    body = llm.requests_to("/chat/completions")[0].body
    assert body["stream_options"] == {"include_usage": True} and body["max_tokens"] == 100
    expected = price_of(done.usage.prompt_tokens, IN) + price_of(4, OUT)
    assert done.usage.completion_tokens == 4 and done.credits == expected
    balance, ledger = await balance_and_ledger(store, account.id)
    assert balance == 100 * MICRO - expected == ledger


async def test_context_window_is_the_last_three_messages(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        for n in range(1, 5):
            await collect(core.chat.ask(ask(f"question {n}")))
    sent = llm.requests_to("/chat/completions")[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "assistant", "user", "assistant", "user"]
    assert [m["content"] for m in sent[1:]] == [
        "Echo: question 2",
        "question 3",
        "Echo: question 3",
        "question 4",
    ]


async def test_context_is_per_chat_and_reset_clears_it(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await collect(core.chat.ask(ask("in chat one")))
        await collect(core.chat.ask(ask("in chat two", chat_id="chat2")))
        assert len(llm.requests[-1].body["messages"]) == 2  # system + new: chat2 is fresh
        await core.conversations.reset(caller("1"), "chat1")
        await collect(core.chat.ask(ask("after reset")))
        assert len(llm.requests[-1].body["messages"]) == 2
        history = await core.conversations.history(caller("1"))
    assert [h.question for h in history] == ["after reset", "in chat two", "in chat one"]


async def test_failure_before_output_refunds_in_full(llm, store):
    llm.script(fail_before_output=500)
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        with pytest.raises(UpstreamError):
            await collect(core.chat.ask(ask("hi", model="chat-b")))
        account = await core.accounts.resolve(caller("1"))
    assert await balance_and_ledger(store, account.id) == (100 * MICRO, 100 * MICRO)
    assert store_outcomes(store) == [Outcome.FAILED]


def store_outcomes(store: MemoryStore) -> list[Outcome]:
    return [e.outcome for _, e in store.usage]


def ledger_of(store: MemoryStore, kind: LedgerKind) -> list:
    return [e for _, e in store.ledger if e.kind is kind]


async def test_cut_stream_charges_prompt_plus_chunks_received(llm, store):
    llm.script(reply="one two three four five six", cut_after=3)
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        events = await collect(core.chat.ask(ask("hi", model="chat-b")))
        account = await core.accounts.resolve(caller("1"))
    done = events[-1]
    assert done.outcome is Outcome.CUT and done.text == "one two three"
    prompt = [ChatMessage("system", core.config.system_prompt), ChatMessage("user", "hi")]
    expected = price_of(estimate_prompt_tokens(prompt), 5 * MICRO) + price_of(
        estimate_tokens("one two three"), 10 * MICRO
    )
    assert 0 < done.credits == expected
    reserved = price_of(estimate_prompt_tokens(prompt), 5 * MICRO) + price_of(100, 10 * MICRO)
    assert done.credits < reserved
    balance, ledger = await balance_and_ledger(store, account.id)
    assert balance == ledger == 100 * MICRO - expected


async def test_missing_usage_is_charged_by_estimate(llm, store):
    llm.script(reply="some answer text", omit_usage=True)
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        events = await collect(core.chat.ask(ask("hi")))
    assert events[-1].outcome is Outcome.OK and events[-1].credits > 0


async def test_no_credits_means_no_upstream_call(llm, store):
    async with core_on(
        memory_uow_factory(store), llm.base_url, config=with_config(welcome_credits=0)
    ) as core:
        with pytest.raises(InsufficientCredits) as refused:
            await collect(core.chat.ask(ask("hi")))
    assert refused.value.params == {"balance": "0.00"}
    assert llm.requests == []


async def test_balance_smaller_than_worst_case_caps_the_output_within_the_overdraft(llm, store):
    """1 credit pays the prompt (about 0.4) but not the worst case (2.4): the hold is the
    balance plus the 1-credit overdraft, the output limit sent upstream is what that pays
    for, the answer says it was shortened, and the balance ends no lower than -1."""
    llm.script(reply=" ".join(["word"] * 150))
    async with core_on(
        memory_uow_factory(store), llm.base_url, config=with_config(welcome_credits=MICRO)
    ) as core:
        done = (await collect(core.chat.ask(ask("hi"))))[-1]
        account = await core.accounts.resolve(caller("1"))
        sent = llm.requests[0].body["max_tokens"]
        assert 0 < sent < 100  # the model's own maximum is 100
        assert done.shortened and done.usage.completion_tokens == sent
        assert -MICRO <= account.balance == MICRO - done.credits < 0
        with pytest.raises(InsufficientCredits):
            await collect(core.chat.ask(ask("again")))
    assert len(llm.requests) == 1
    assert (await balance_and_ledger(store, account.id))[1] == account.balance


async def test_prompt_dearer_than_the_balance_is_refused_before_the_upstream(llm, store):
    async with core_on(
        memory_uow_factory(store), llm.base_url, config=with_config(welcome_credits=1_000)
    ) as core:
        with pytest.raises(InsufficientCredits):
            await collect(core.chat.ask(ask("hi")))
        account = await core.accounts.resolve(caller("1"))
    assert llm.requests == []
    assert account.balance == 1_000


async def test_a_short_answer_within_a_capped_limit_is_not_called_shortened(llm, store):
    llm.script(reply="just a few words")
    async with core_on(
        memory_uow_factory(store), llm.base_url, config=with_config(welcome_credits=MICRO)
    ) as core:
        done = (await collect(core.chat.ask(ask("hi"))))[-1]
    assert llm.requests[0].body["max_tokens"] < 100
    assert not done.shortened and done.outcome is Outcome.OK


async def test_stop_flag_ends_the_stream_and_charges_what_was_made(llm, store):
    llm.script(reply=" ".join(f"w{i}" for i in range(40)), delay=0.02)
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        request = ask("hi")
        events = []
        async with aclosing(core.chat.ask(request)) as stream:
            async for event in stream:
                events.append(event)
                if len(events) == 3:
                    await core.chat.stop(request.request_id)
    done = events[-1]
    assert done.outcome is Outcome.STOPPED
    assert 3 <= len(done.text.split()) < 40
    assert 0 < done.credits
    assert await llm.wait_for_disconnects(1)


async def test_consumer_leaving_cancels_upstream_and_still_settles(llm, store):
    llm.script(reply=" ".join(f"w{i}" for i in range(40)), delay=0.02)
    async with core_on(memory_uow_factory(store), llm.base_url) as core:

        async def consume() -> None:
            async for _ in core.chat.ask(ask("hi")):
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        account = await core.accounts.resolve(caller("1"))
    assert await llm.wait_for_disconnects(1)
    settles = ledger_of(store, LedgerKind.SETTLE)
    assert len(settles) == 1
    balance, ledger = await balance_and_ledger(store, account.id)
    assert balance == ledger and 0 < 100 * MICRO - balance
    assert store_outcomes(store) == [Outcome.STOPPED]


async def test_duplicate_event_gets_one_answer_and_one_charge(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await collect(core.chat.ask(ask("hi", event_id="update-7")))
        with pytest.raises(DuplicateEvent):
            await collect(core.chat.ask(ask("hi", event_id="update-7")))
    assert len(llm.requests) == 1
    assert len(ledger_of(store, LedgerKind.HOLD)) == 1


async def test_fallback_model_answers_when_primary_fails_before_output(llm, store):
    llm.enqueue(fail_before_output=503)
    llm.script(reply="from fallback")
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        done = (await collect(core.chat.ask(ask("hi"))))[-1]
    assert done.text == "from fallback"
    assert [r.body["model"] for r in llm.requests] == ["chat-a", "chat-b"]
    assert store.usage[-1][1].model == "chat-b"


async def test_a_rejected_request_is_not_retried_on_the_fallback(llm, store):
    llm.script(fail_before_output=400)
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        with pytest.raises(UpstreamBadRequest):
            await collect(core.chat.ask(ask("hi")))
    assert len(llm.requests) == 1


async def test_rate_and_in_flight_limits(llm, store):
    limits = {role: RoleLimits(per_minute=2, concurrent=5) for role in Role}
    async with core_on(
        memory_uow_factory(store), llm.base_url, config=with_config(role_limits=limits)
    ) as core:
        await collect(core.chat.ask(ask("1")))
        await collect(core.chat.ask(ask("2")))
        with pytest.raises(RateLimited) as limited:
            await collect(core.chat.ask(ask("3")))
    assert int(limited.value.params["retry_after"]) >= 1
    assert len(llm.requests) == 2

    llm.script(reply="slow answer", delay=0.2)
    one = {role: RoleLimits(per_minute=100, concurrent=1) for role in Role}
    async with core_on(
        memory_uow_factory(MemoryStore()), llm.base_url, config=with_config(role_limits=one)
    ) as core:
        first = core.chat.ask(ask("a"))
        await first.__anext__()
        with pytest.raises(TooManyInFlight):
            await collect(core.chat.ask(ask("b")))
        await collect(first)
        await collect(core.chat.ask(ask("c")))  # the slot was released


async def test_bad_inputs_are_refused_before_anything_else(llm, store):
    async with core_on(
        memory_uow_factory(store), llm.base_url, config=with_config(max_input_chars=50)
    ) as core:
        with pytest.raises(EmptyInput):
            await collect(core.chat.ask(ask("   ")))
        with pytest.raises(InputTooLong) as too_long:
            await collect(core.chat.ask(ask("x" * 51)))
        with pytest.raises(UnknownModel):
            await collect(core.chat.ask(ask("hi", model="no-such-model")))
        with pytest.raises(NotAllowed):
            await collect(core.chat.ask(ask("hi", model="chat-pro")))  # admins only
    assert too_long.value.params == {"length": "51", "limit": "50"}
    assert llm.requests == [] and ledger_of(store, LedgerKind.HOLD) == []


async def test_banned_accounts_get_a_refusal_and_nothing_else(llm, store):
    admin = caller("99")
    async with core_on(
        memory_uow_factory(store),
        llm.base_url,
        config=with_config(bootstrap_admins=frozenset({admin.identity})),
    ) as core:
        target = await core.accounts.resolve(caller("1"))
        await core.admin.set_banned(admin, "1", True)
        with pytest.raises(Banned):
            await collect(core.chat.ask(ask("hi")))
        with pytest.raises(Banned):
            await core.conversations.balance(caller("1"))
        await core.admin.set_banned(admin, f"#{target.id}", False)
        await collect(core.chat.ask(ask("hi")))
    assert len(llm.requests) == 1
