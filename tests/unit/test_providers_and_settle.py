"""Several providers in one models file, and settlement that cannot happen twice."""

from __future__ import annotations

import tomllib

import pytest

from core.models_config import parse_models
from core.money import MICRO
from core.providers.openai_compat import OpenAICompatibleProvider
from core.services import build_core
from core.services.billing import Billing, Settlement
from core.services.requests import ChatRequest
from core.types import LedgerKind, Outcome
from storage.kv.login_limits import MemoryLoginLimiter
from storage.kv.memory import MemoryLinkCodes, MemoryRateLimiter, MemoryStopSignals
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import MemoryHealth, caller, collect, core_on, with_config

TWO_PROVIDERS = """
default_chat_model = "remote"
[providers.cloud]
base_url = "{cloud}"
api_key_env = "CLOUD_KEY"
[providers.local]
base_url = "{local}"
api_key_env = "LOCAL_KEY"
[models.remote]
provider = "cloud"
upstream = "big-model"
input_credits_per_1k = 1
output_credits_per_1k = 1
fallbacks = ["nearby"]
[models.nearby]
provider = "local"
upstream = "llama"
input_credits_per_1k = 1
output_credits_per_1k = 1
"""


async def test_a_model_falls_back_to_another_providers_model():
    async with FakeLLM() as cloud, FakeLLM() as local:
        cloud.script(fail_before_output=503)
        local.script(reply="local answer")
        catalog = parse_models(
            tomllib.loads(TWO_PROVIDERS.format(cloud=cloud.base_url, local=local.base_url))
        )
        providers = {
            name: OpenAICompatibleProvider(spec.base_url or "", None)
            for name, spec in catalog.providers.items()
        }
        core = build_core(
            uow=memory_uow_factory(MemoryStore()),
            providers=providers,
            models=catalog,
            limiter=MemoryRateLimiter(),
            links=MemoryLinkCodes(),
            stops=MemoryStopSignals(),
            config=with_config(),
            health=MemoryHealth(),
            login_limiter=MemoryLoginLimiter(),
        )
        try:
            done = (
                await collect(
                    core.chat.ask(ChatRequest(caller=caller("1"), chat_id="c", text="hi"))
                )
            )[-1]
        finally:
            for provider in providers.values():
                await provider.aclose()
    assert done.text == "local answer"
    assert [r.body["model"] for r in cloud.requests] == ["big-model"]
    assert [r.body["model"] for r in local.requests] == ["llama"]


async def test_settling_twice_changes_nothing_the_second_time():
    store = MemoryStore()
    async with FakeLLM() as llm, core_on(memory_uow_factory(store), llm.base_url) as core:
        account = await core.accounts.resolve(caller("1"))
        billing = Billing(memory_uow_factory(store))
        request = ChatRequest(caller=caller("1"), chat_id="c", text="x")
        hold = await billing.hold(
            account, request, 5 * MICRO, core.models.get("chat-a").kind, "chat-a"
        )
        assert await billing.settle(hold, Settlement(charge=2 * MICRO, outcome=Outcome.OK))
        assert not await billing.settle(hold, Settlement(charge=0, outcome=Outcome.FAILED))
        after = await core.accounts.resolve(caller("1"))
    assert after.balance == 98 * MICRO
    assert [e.amount for _, e in store.ledger if e.kind is LedgerKind.SETTLE] == [3 * MICRO]


@pytest.mark.parametrize("welcome", [0, 1])
async def test_tiny_or_zero_balances(welcome):
    """1 sub-unit is a positive balance, but it does not pay the prompt: refused before
    the upstream, like an empty balance."""
    async with (
        FakeLLM() as llm,
        core_on(
            memory_uow_factory(MemoryStore()),
            llm.base_url,
            config=with_config(welcome_credits=welcome),
        ) as core,
    ):
        request = ChatRequest(caller=caller("1"), chat_id="c", text="hi")
        with pytest.raises(Exception, match="insufficient"):
            await collect(core.chat.ask(request))
        assert llm.requests == []
        assert (await core.accounts.resolve(caller("1"))).balance == welcome
