"""The embedded default under concurrent chats: SQLite must serialise writers, not fail them."""

from __future__ import annotations

import asyncio

from core.services.requests import ChatRequest
from core.types import Outcome
from storage.db import create_engine
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller, collect, core_on


async def test_thirty_people_chatting_at_once_on_sqlite(sqlite_url):
    await migrate(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        async with FakeLLM() as llm, core_on(sql_uow_factory(engine), llm.base_url) as core:
            llm.script(reply="an answer in a few words", delay=0.005)
            # Everyone exists already, then all ask at once (and twice each).
            for n in range(30):
                await core.accounts.resolve(caller(str(n)))
            asks = [
                collect(
                    core.chat.ask(
                        ChatRequest(caller=caller(str(n % 30)), chat_id="c", text=f"q{n}")
                    )
                )
                for n in range(60)
            ]
            results = await asyncio.gather(*asks, return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            assert failures == []
            assert all(r[-1].outcome is Outcome.OK for r in results)
            async with sql_uow_factory(engine)() as uow:
                for n in range(30):
                    account = await uow.accounts.find_by_identity(caller(str(n)).identity)
                    assert account.balance == await uow.ledger.sum_for(account.id)
    finally:
        await engine.dispose()
