"""Issue 11 item 2 on real Postgres: the connection is cut (TcpProxy) while an answer is
being settled; the answer is delivered with its charge and no error, the settlement is
journaled, and it is written once when Postgres comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.errors import StorageUnavailable
from core.services.requests import ChatRequest
from core.types import LedgerKind, Outcome, TextDelta, TextDone
from storage.db import create_engine
from storage.migrate import migrate
from storage.settlement_journal import FileSettlementJournal
from storage.uow import sql_uow_factory
from tests.fakes.llm_server import FakeLLM
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import caller, core_on

pytestmark = [pytest.mark.postgres]

WAIT_S = 60.0  # an upper bound for the background retry, not a measured figure


async def test_a_settlement_cut_off_from_postgres_is_written_when_it_comes_back(
    pg_url: str, tmp_path: Path
) -> None:
    await migrate(pg_url)
    parts = urlsplit(pg_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    through = pg_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    engine = create_engine(through, command_timeout=5.0)
    direct = create_engine(pg_url)
    journal = FileSettlementJournal(tmp_path / "settlements.jsonl")
    try:
        async with (
            FakeLLM() as llm,
            core_on(sql_uow_factory(engine), llm.base_url, journal=journal) as core,
        ):
            account = await core.accounts.resolve(caller("1"))
            llm.script(reply="delivered despite the outage", delay=0.05)
            reply = await core.chat.start(ChatRequest(caller=caller("1"), chat_id="c", text="q"))
            async with reply:
                events = reply.events
                first = await anext(events)
                assert isinstance(first, TextDelta)
                await proxy.stop()  # Postgres goes away before the settlement
                rest = [e async for e in events]
            done = [first, *rest][-1]
            assert isinstance(done, TextDone)
            assert done.text == "delivered despite the outage"
            assert done.outcome is Outcome.OK and done.credits > 0
            assert [p.request_id for p in await journal.pending()] == [reply.request_id]
            with pytest.raises(StorageUnavailable):
                async with sql_uow_factory(engine)() as uow:
                    await uow.ledger.sum_for(account.id)

            await proxy.start()  # back on the same port
            await asyncio.wait_for(core.billing.retried(), WAIT_S)
            assert await journal.pending() == []

        async with sql_uow_factory(direct)() as uow:
            entries = await uow.ledger.entries(account.id, 20)
            fresh = await uow.accounts.get(account.id)
            total = await uow.ledger.sum_for(account.id)
            open_holds = await uow.ledger.count_open_holds()
        ours = [e for e in entries if e.request_id == reply.request_id]
        assert sorted(e.kind for e in ours) == sorted([LedgerKind.HOLD, LedgerKind.SETTLE])
        hold = next(e for e in ours if e.kind is LedgerKind.HOLD)
        settle = next(e for e in ours if e.kind is LedgerKind.SETTLE)
        assert -hold.amount - settle.amount == done.credits
        assert fresh is not None and fresh.balance == total
        assert open_holds == 0
    finally:
        await proxy.stop()
        await engine.dispose()
        await direct.dispose()
