"""The core on real Postgres and Redis: the money race, outages, and the composition root."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from bots.bootstrap import open_app
from bots.settings import Settings
from core.errors import InsufficientCredits, StorageUnavailable
from core.money import MICRO
from core.services.chat import chat_cost, estimate_prompt_tokens
from core.services.requests import ChatRequest
from core.types import ChatMessage, Outcome, Usage
from storage.db import create_engine
from storage.kv import open_kv
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.fakes.llm_server import FakeLLM
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import TEST_API_KEY, caller, collect, core_on, models_for_tests, with_config

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def pg_engine(pg_url):
    await migrate(pg_url)
    engine = create_engine(pg_url)
    yield engine
    await engine.dispose()


async def test_fifty_concurrent_requests_on_a_balance_for_one(pg_engine, redis_url, redis_prefix):
    model = models_for_tests().get("chat-a")
    system = with_config().system_prompt
    worst = chat_cost(
        model,
        Usage(
            estimate_prompt_tokens([ChatMessage("system", system), ChatMessage("user", "hi")]), 100
        ),
    )
    kv = await open_kv(redis_url, prefix=redis_prefix)
    uow = sql_uow_factory(pg_engine)
    try:
        async with (
            FakeLLM() as llm,
            core_on(
                uow,
                llm.base_url,
                config=with_config(welcome_credits=worst),
                limiter=kv.rate_limiter,
                links=kv.link_codes,
                stops=kv.stop_signals,
            ) as core,
        ):
            # Slow enough that all 50 try to reserve while the first answer streams:
            # once it settles, its unused reservation comes back and a 51st could pass.
            llm.script(reply="short answer", delay=0.5)
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
    answered = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(answered) == 1 and len(refused) == 49, results
    assert len(llm.requests_to("/chat/completions")) == 1
    assert answered[0][-1].outcome is Outcome.OK
    async with uow() as tx:
        fresh = await tx.accounts.get(account.id)
        assert (
            fresh.balance == await tx.ledger.sum_for(account.id) == worst - answered[0][-1].credits
        )


async def test_postgres_unreachable_is_a_clear_error_and_no_upstream_call():
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        async with FakeLLM() as llm, core_on(sql_uow_factory(engine), llm.base_url) as core:
            with pytest.raises(StorageUnavailable):
                await collect(
                    core.chat.ask(ChatRequest(caller=caller("1"), chat_id="c", text="hi"))
                )
            assert llm.requests == []
    finally:
        await engine.dispose()


async def test_answers_continue_when_redis_stops_mid_run(pg_engine, redis_url, redis_prefix):
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    kv = await open_kv(
        f"redis://127.0.0.1:{proxy.port}{parts.path}", prefix=redis_prefix, retry_interval_s=0.3
    )
    try:
        async with (
            FakeLLM() as llm,
            core_on(
                sql_uow_factory(pg_engine),
                llm.base_url,
                limiter=kv.rate_limiter,
                links=kv.link_codes,
                stops=kv.stop_signals,
            ) as core,
        ):

            def ask(text: str):
                return collect(
                    core.chat.ask(ChatRequest(caller=caller("1"), chat_id="c", text=text))
                )

            assert (await ask("before"))[-1].text == "Echo: before"
            await proxy.stop()
            assert (await ask("during"))[-1].text == "Echo: during"
            assert kv.degraded
            await proxy.start()
            await asyncio.sleep(0.4)
            assert (await ask("after"))[-1].text == "Echo: after"
            assert not kv.degraded
    finally:
        await kv.aclose()
        await proxy.stop()


async def test_open_app_wires_postgres_redis_and_the_upstream(pg_url, redis_url, redis_prefix):
    async with FakeLLM(api_key=TEST_API_KEY) as llm:
        settings = Settings(
            database_url=pg_url,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            openai_base_url=llm.base_url,
            openai_api_key=TEST_API_KEY,
            welcome_credits="5",
            bot_admins="telegram:42",
        )
        async with open_app(settings) as app:
            events = await collect(
                app.core.chat.ask(ChatRequest(caller=caller("42"), chat_id="c", text="hello"))
            )
            account = await app.core.accounts.resolve(caller("42"))
        assert events[-1].text == "Echo: hello"
        assert account.role.value == "admin" and account.balance == 5 * MICRO - events[-1].credits
        assert llm.requests[0].authorization == f"Bearer {TEST_API_KEY}"
        # A second start on the same database: migrations are already there, data kept.
        async with open_app(settings) as app:
            assert (await app.core.accounts.resolve(caller("42"))).id == account.id
