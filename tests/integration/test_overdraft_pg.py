"""The overdraft bound on real Postgres: however many requests race on a nearly empty
balance, and however dear the model, one account ends no lower than -MAX_OVERDRAFT."""

from __future__ import annotations

import asyncio
import tomllib

import pytest

from core.errors import InsufficientCredits
from core.models_config import parse_models
from core.money import MICRO
from core.services.requests import ChatRequest
from core.types import LedgerKind, TextDone
from storage.db import create_engine
from storage.kv import open_kv
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.fakes.llm_server import FakeLLM
from tests.harness import MODELS_TOML, caller, collect, core_on, with_config

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# 1,000 credits a token out, up to 4,000 tokens: a worst case of 4,000,000 credits.
PRICEY_TOML = (
    MODELS_TOML
    + """
[models."pricey"]
kind = "chat"
input_credits_per_1k = 100
output_credits_per_1k = 1000000
max_output_tokens = 4000
roles = ["guest", "user", "admin"]
"""
)


@pytest.fixture
async def pg_engine(pg_url):
    await migrate(pg_url)
    engine = create_engine(pg_url)
    yield engine
    await engine.dispose()


async def test_fifty_concurrent_requests_on_a_nearly_empty_balance(
    pg_engine, redis_url, redis_prefix
):
    # 1 credit pays the prompt (about 0.4 on chat-a) but not the worst case (2.4).
    kv = await open_kv(redis_url, prefix=redis_prefix)
    uow = sql_uow_factory(pg_engine)
    try:
        async with (
            FakeLLM() as llm,
            core_on(
                uow,
                llm.base_url,
                config=with_config(welcome_credits=MICRO, max_overdraft=MICRO),
                limiter=kv.rate_limiter,
                links=kv.link_codes,
                stops=kv.stop_signals,
            ) as core,
        ):
            llm.script(reply=" ".join(["word"] * 300), delay=0.01)
            account = await core.accounts.resolve(caller("1"))
            results = await asyncio.gather(
                *(
                    collect(core.chat.ask(ChatRequest(caller=caller("1"), chat_id="c", text="hi")))
                    for _ in range(50)
                ),
                return_exceptions=True,
            )
    finally:
        await kv.aclose()
    answered = [r[-1] for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert answered and len(answered) + len(refused) == 50, results
    assert all(isinstance(done, TextDone) and done.shortened for done in answered)
    sent = [r.body["max_tokens"] for r in llm.requests_to("/chat/completions")]
    assert len(sent) == len(answered) and all(0 < n < 100 for n in sent)
    async with uow() as tx:
        fresh = await tx.accounts.get(account.id)
        assert fresh is not None
        assert -MICRO <= fresh.balance < 0
        assert fresh.balance == await tx.ledger.sum_for(account.id)
        assert fresh.balance == MICRO - sum(done.credits for done in answered)
    print(f"50 at once on 1 credit: {len(answered)} answered, balance {fresh.balance / MICRO}")


async def test_a_million_credits_on_a_dear_model_end_within_the_overdraft(pg_engine):
    """The reported case: 1,000,000 credits ended at -100,005.68 after one answer."""
    uow = sql_uow_factory(pg_engine)
    models = parse_models(tomllib.loads(PRICEY_TOML))
    async with (
        FakeLLM() as llm,
        core_on(
            uow, llm.base_url, config=with_config(welcome_credits=1_000_000 * MICRO), models=models
        ) as core,
    ):
        llm.script(reply=" ".join(["word"] * 1500))
        request = ChatRequest(caller=caller("1"), chat_id="c", text="hi", model="pricey")
        done = (await collect(core.chat.ask(request)))[-1]
        account = await core.accounts.resolve(caller("1"))
    assert isinstance(done, TextDone) and done.shortened
    sent = llm.requests_to("/chat/completions")[0].body["max_tokens"]
    assert sent < 1000  # 1,000,001 credits pay the prompt and fewer than 1,000 tokens
    # What is left is less than one more token's price, and never below -overdraft.
    assert -MICRO <= account.balance < 1000 * MICRO
    async with uow() as tx:
        assert account.balance == await tx.ledger.sum_for(account.id)
        holds = [e for e in await tx.ledger.entries(account.id, 10) if e.kind is LedgerKind.HOLD]
    assert -holds[0].amount == 1_000_001 * MICRO  # the balance plus the overdraft
