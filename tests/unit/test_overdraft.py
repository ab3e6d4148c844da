"""The bounded overdraft's pieces: the guarded reservation's conditions, the charge cap of
a bounded hold, and the output limit a hold pays for."""

from __future__ import annotations

import pytest

from core.errors import InsufficientCredits
from core.money import MICRO
from core.services.billing import Billing, Settlement
from core.services.requests import ChatRequest, ImageRequest
from core.services.spend_cap import least_hold, output_cap, prompt_cost
from core.types import Feature, LedgerEntry, LedgerKind, Outcome, Role
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on, models_for_tests, with_config


async def account_with(store: MemoryStore, balance: int) -> int:
    async with memory_uow_factory(store)() as uow:
        account = await uow.accounts.create(Role.USER)
        await uow.ledger.append(LedgerEntry(account.id, balance, LedgerKind.GRANT))
        await uow.accounts.add_to_balance(account.id, balance)
        await uow.commit()
        return account.id


@pytest.mark.parametrize(
    ("balance", "kw", "taken"),
    [
        (10, {}, 10),  # no overdraft: what is there (the old rule)
        (10, {"overdraft": 5}, 15),  # the balance and the overdraft
        (100, {"overdraft": 5}, 40),  # enough: the worst case
        (10, {"overdraft": 5, "upfront": 11}, 0),  # the balance does not pay the prompt
        (10, {"overdraft": 5, "least": 16}, 0),  # not even the smallest useful hold
        (10, {"overdraft": 5, "least": 15}, 15),
        (0, {"overdraft": 5}, 0),  # nothing left: refused, overdraft or not
    ],
)
async def test_reserve_conditions(balance, kw, taken):
    store = MemoryStore()
    account_id = await account_with(store, balance)
    async with memory_uow_factory(store)() as uow:
        assert await uow.accounts.reserve(account_id, 40, **kw) == taken
        after = await uow.accounts.get(account_id)
    assert after is not None and after.balance == balance - taken


async def test_a_bounded_hold_charges_no_more_than_it_reserved():
    store = MemoryStore()
    account_id = await account_with(store, 2 * MICRO)
    billing = Billing(memory_uow_factory(store), overdraft=MICRO)
    async with memory_uow_factory(store)() as uow:
        account = await uow.accounts.get(account_id)
    assert account is not None
    request = ChatRequest(caller=caller("1"), chat_id="c", text="x")
    hold = await billing.hold(account, request, 10 * MICRO, Feature.CHAT, "chat-a")
    assert hold.reserved == 3 * MICRO and hold.bounded
    # The upstream counted more than the estimate: the bound still holds.
    assert await billing.settle(hold, Settlement(charge=5 * MICRO, outcome=Outcome.OK))
    async with memory_uow_factory(store)() as uow:
        after = await uow.accounts.get(account_id)
        assert after is not None and after.balance == -MICRO
        assert await uow.ledger.sum_for(account_id) == -MICRO
    with pytest.raises(InsufficientCredits):  # below zero: the next one is refused
        await billing.hold(after, ChatRequest(caller("1"), "c"), 1, Feature.CHAT, "chat-a")


def test_output_cap_is_what_the_hold_pays_for():
    model = models_for_tests().get("chat-a")  # 10 in / 20 out credits per 1k tokens
    assert model is not None
    prompt = 40  # 0.4 credits
    assert prompt_cost(model, prompt) == 400_000
    assert least_hold(model, prompt) == 420_000
    assert output_cap(model, prompt, 10 * MICRO) == 100  # the model's maximum
    assert output_cap(model, prompt, 2 * MICRO) == 80  # 1.6 credits at 0.02 a token
    assert output_cap(model, prompt, 2 * MICRO, choices=2) == 40
    assert output_cap(model, prompt, 2 * MICRO, wanted=10) == 10
    assert output_cap(model, prompt, 399_999) == 0


@pytest.mark.parametrize(("overdraft", "allowed"), [(MICRO // 2, False), (MICRO, True)])
async def test_an_image_must_fit_within_the_balance_and_the_overdraft(overdraft, allowed):
    """An image costs 40 credits, known in advance: with 39 it passes only when the
    overdraft covers the last credit, and then ends at -1, not lower."""
    store = MemoryStore()
    config = with_config(welcome_credits=39 * MICRO, max_overdraft=overdraft)
    async with (
        FakeLLM() as llm,
        core_on(memory_uow_factory(store), llm.base_url, config=config) as core,
    ):
        request = ImageRequest(caller=caller("1"), chat_id="c", prompt="a red square")
        if allowed:
            ready = await core.media.image(request)
            assert ready.credits == 40 * MICRO
        else:
            with pytest.raises(InsufficientCredits):
                await core.media.image(request)
        account = await core.accounts.resolve(caller("1"))
    assert account.balance == (-MICRO if allowed else 39 * MICRO)
    assert len(llm.requests_to("/images/generations")) == (1 if allowed else 0)
