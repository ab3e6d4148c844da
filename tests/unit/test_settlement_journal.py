"""Issue 11 item 2: a settlement the database cannot take is journaled, retried in the
background until it can, and replayed by the next start; the person never sees the
database error after a delivered answer, and the sweep never refunds a journaled hold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.errors import StorageUnavailable
from core.money import MICRO
from core.services.billing import Billing, Hold, Settlement, pending_of
from core.services.requests import ChatRequest
from core.services.sweep import ReservationSweeper
from core.types import (
    ConversationKey,
    Feature,
    LedgerEntry,
    LedgerKind,
    Outcome,
    TextDone,
    Usage,
)
from storage.settlement_journal import FileSettlementJournal
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemorySettlementJournal, MemoryStore, memory_uow_factory
from tests.harness import caller, core_on

WAIT_S = 20.0  # an upper bound for the background retry, never a measured figure


class _Down:
    async def __aenter__(self) -> Any:
        raise StorageUnavailable()

    async def __aexit__(self, *exc: object) -> None:
        return None


class Outage:
    """A unit-of-work factory over a memory store that can be cut like a database."""

    def __init__(self, store: MemoryStore) -> None:
        self._factory = memory_uow_factory(store)
        self.down = False

    def __call__(self, *, atomic: bool = True) -> Any:
        return _Down() if self.down else self._factory(atomic=atomic)


def _settles(store: MemoryStore, request_id: str) -> list[LedgerEntry]:
    return [
        e for _, e in store.ledger if e.kind is LedgerKind.SETTLE and e.request_id == request_id
    ]


async def _ledger_matches_balance(store: MemoryStore, account_id: int) -> None:
    async with memory_uow_factory(store)() as uow:
        account = await uow.accounts.get(account_id)
        total = await uow.ledger.sum_for(account_id)
    assert account is not None
    assert account.balance == total


async def test_a_chat_settled_during_an_outage_is_journaled_and_written_once_back():
    store = MemoryStore()
    outage = Outage(store)
    journal = MemorySettlementJournal()
    async with FakeLLM() as llm, core_on(outage, llm.base_url, journal=journal) as core:
        llm.script(reply="a fine answer", delay=0.05)
        account = await core.accounts.resolve(caller("1"))
        request = ChatRequest(caller=caller("1"), chat_id="c", text="hello")
        reply = await core.chat.start(request)
        async with reply:
            events = reply.events
            first = await anext(events)
            outage.down = True  # the database goes away mid-answer
            rest = [e async for e in events]
        done = [first, *rest][-1]
        assert isinstance(done, TextDone)
        assert done.text == "a fine answer"
        assert done.outcome is Outcome.OK
        assert done.credits > 0  # TextDone still carries the charge
        assert journal.added == [reply.request_id]
        assert _settles(store, reply.request_id) == []

        outage.down = False  # the background retry writes it once the database is back

        await asyncio.wait_for(journal.emptied.wait(), WAIT_S)
        assert await core.billing.replay() == 0  # a second replay writes nothing
    settles = _settles(store, reply.request_id)
    assert len(settles) == 1
    hold = next(
        e for _, e in store.ledger if e.kind is LedgerKind.HOLD and e.request_id == reply.request_id
    )
    assert -hold.amount - settles[0].amount == done.credits
    await _ledger_matches_balance(store, account.id)
    async with memory_uow_factory(store)() as uow:
        window = await uow.conversations.window(ConversationKey("telegram", "c", account.id), 10)
    assert [m.content for m in window] == ["hello", "a fine answer"]


async def test_without_a_journal_the_outage_is_raised_as_before():
    store = MemoryStore()
    outage = Outage(store)
    async with FakeLLM() as llm, core_on(memory_uow_factory(store), llm.base_url) as core:
        account = await core.accounts.resolve(caller("1"))
    billing = Billing(outage)
    request = ChatRequest(caller=caller("1"), chat_id="c", text="x")
    hold = await billing.hold(account, request, 5 * MICRO, Feature.CHAT, "chat-a")
    outage.down = True
    try:
        await billing.settle(hold, Settlement(2 * MICRO, Outcome.OK))
    except StorageUnavailable:
        pass
    else:
        raise AssertionError("a settle without a journal must not pretend it was written")


async def test_a_journal_file_written_by_one_core_is_replayed_by_the_next(tmp_path: Path):
    store = MemoryStore()
    outage = Outage(store)
    path = tmp_path / "data" / "settlements.jsonl"
    async with FakeLLM() as llm:
        async with core_on(outage, llm.base_url, journal=FileSettlementJournal(path)) as first:
            account = await first.accounts.resolve(caller("7"))
            llm.script(reply="kept through a restart")
            reply = await first.chat.start(ChatRequest(caller=caller("7"), chat_id="c", text="q"))
            async with reply:
                outage.down = True
                done = [e async for e in reply.events][-1]
            assert isinstance(done, TextDone) and done.credits > 0
        # The first core is gone (its retry task stopped) with the database still down.
        assert path.stat().st_size > 0
        assert path.stat().st_mode & 0o077 == 0
        outage.down = False
        journal = FileSettlementJournal(path)
        async with core_on(outage, llm.base_url, journal=journal) as second:
            assert await second.billing.replay() == 0
            assert await journal.pending() == []
    assert path.stat().st_size == 0  # emptied once nothing is pending
    settles = _settles(store, reply.request_id)
    assert len(settles) == 1
    await _ledger_matches_balance(store, account.id)


async def test_a_replay_after_a_partial_success_writes_nothing_twice(tmp_path: Path):
    """The database took the settlement but the journal was not told (a crash between
    the two): the next replay finds it settled and only clears the journal."""
    store = MemoryStore()
    factory = memory_uow_factory(store)
    async with FakeLLM() as llm, core_on(factory, llm.base_url) as core:
        account = await core.accounts.resolve(caller("3"))
    journal = FileSettlementJournal(tmp_path / "j.jsonl")
    billing = Billing(factory, journal=journal)
    request = ChatRequest(caller=caller("3"), chat_id="c", text="x")
    hold = await billing.hold(account, request, 5 * MICRO, Feature.CHAT, "chat-a")
    settlement = Settlement(2 * MICRO, Outcome.OK)
    assert await billing.settle(hold, settlement)
    await journal.add(pending_of(hold, settlement))
    assert await billing.replay() == 0
    assert await journal.pending() == []
    assert len(_settles(store, hold.request_id)) == 1
    await _ledger_matches_balance(store, account.id)


async def test_the_sweep_charges_a_journaled_settlement_instead_of_refunding_it():
    store = MemoryStore()
    outage = Outage(store)
    async with FakeLLM() as llm, core_on(memory_uow_factory(store), llm.base_url) as core:
        account = await core.accounts.resolve(caller("5"))
    journal = MemorySettlementJournal()
    billing = Billing(outage, journal=journal, retry_first_s=3600.0)
    request = ChatRequest(caller=caller("5"), chat_id="c", text="x")
    hold = await billing.hold(account, request, 5 * MICRO, Feature.CHAT, "chat-a")
    outage.down = True
    assert await billing.settle(hold, Settlement(2 * MICRO, Outcome.OK))
    outage.down = False
    later = datetime.now(UTC) + timedelta(minutes=30)
    sweeper = ReservationSweeper(outage, clock=lambda: later, journaled=billing)
    assert await sweeper.sweep_once() == 0
    settles = _settles(store, hold.request_id)
    assert [e.amount for e in settles] == [3 * MICRO]  # charged 2 of the 5 held
    await billing.aclose()
    await _ledger_matches_balance(store, account.id)


async def test_the_sweep_skips_a_hold_whose_settlement_is_still_journaled():
    store = MemoryStore()
    factory = memory_uow_factory(store)
    async with FakeLLM() as llm, core_on(factory, llm.base_url) as core:
        account = await core.accounts.resolve(caller("6"))
    billing = Billing(factory)
    request = ChatRequest(caller=caller("6"), chat_id="c", text="x")
    hold = await billing.hold(account, request, 5 * MICRO, Feature.CHAT, "chat-a")

    journal = MemorySettlementJournal()
    await journal.add(pending_of(hold, Settlement(2 * MICRO, Outcome.OK)))
    blocked = Outage(store)
    journaled = Billing(blocked, journal=journal, retry_first_s=3600.0)
    blocked.down = True
    later = datetime.now(UTC) + timedelta(minutes=30)
    skip = await journaled.pending_request_ids()
    assert hold.request_id in skip
    assert await journaled.replay() == 1  # still down for the journal's writer
    sweeper = ReservationSweeper(factory, clock=lambda: later, journaled=journaled)
    assert await sweeper.sweep_once() == 0
    assert _settles(store, hold.request_id) == []
    await journaled.aclose()


async def test_open_holds_are_counted_from_the_ledger():
    store = MemoryStore()
    factory = memory_uow_factory(store)
    async with FakeLLM() as llm, core_on(factory, llm.base_url) as core:
        account = await core.accounts.resolve(caller("8"))
    billing = Billing(factory)
    holds = [
        await billing.hold(
            account,
            ChatRequest(caller=caller("8"), chat_id="c", text=str(n)),
            MICRO,
            Feature.CHAT,
            "m",
        )
        for n in range(3)
    ]
    await billing.settle(holds[0], Settlement(0, Outcome.OK))
    async with factory() as uow:
        assert await uow.ledger.count_open_holds() == 2


async def test_open_app_replays_the_journal_before_answering(sqlite_url: str, tmp_path: Path):
    """The composition root writes what an earlier run journaled, at start."""
    from bots.bootstrap import open_app
    from bots.settings import Settings
    from tests.known_secrets import TEST_API_KEY

    path = tmp_path / "journal" / "settlements.jsonl"
    async with FakeLLM(api_key=TEST_API_KEY) as llm:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=sqlite_url,
            openai_base_url=llm.base_url,
            openai_api_key=TEST_API_KEY,
            settlement_journal=path,
            sweep_interval=0,
        )
        async with open_app(settings) as app:
            account = await app.core.accounts.resolve(caller("4"))
            billing = Billing(app.uow)
            request = ChatRequest(caller=caller("4"), chat_id="c", text="x")
            hold = await billing.hold(account, request, 5 * MICRO, Feature.CHAT, "chat-a")
        # The worker died with this settlement journaled and not written.
        await FileSettlementJournal(path).add(pending_of(hold, Settlement(MICRO, Outcome.OK)))
        async with open_app(settings) as app:
            async with app.uow() as uow:
                settles = [
                    e
                    for e in await uow.ledger.entries(account.id, 10)
                    if e.kind is LedgerKind.SETTLE
                ]
                fresh = await uow.accounts.get(account.id)
                total = await uow.ledger.sum_for(account.id)
                assert await uow.ledger.count_open_holds() == 0
    assert [(e.request_id, e.amount) for e in settles] == [(hold.request_id, 4 * MICRO)]
    assert fresh is not None and fresh.balance == total
    assert path.stat().st_size == 0


async def test_a_torn_last_line_is_skipped_and_the_rest_kept(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    journal = FileSettlementJournal(path)
    hold = Hold(1, "r1", 5 * MICRO, "slack", Feature.CHAT, "chat-a")
    settlement = Settlement(
        MICRO,
        Outcome.STOPPED,
        Usage(12, 34),
        "fallback",
        ConversationKey("slack", "T1/C1", 1),
        "вопрос",
        "ответ",
    )
    kept = pending_of(hold, settlement)
    await journal.add(kept)
    with path.open("a", encoding="utf-8") as file:
        file.write('{"op": "add", "request_id": "r2", "acc')  # a crash mid-write
    assert await FileSettlementJournal(path).pending() == [kept]


async def test_a_keys_hold_survives_the_journal(tmp_path: Path):
    """A journaled settlement still gives the key back its hold when it is replayed."""
    path = tmp_path / "j.jsonl"
    hold = Hold(1, "r1", 5 * MICRO, "api", Feature.CHAT, "chat-a", api_key_id=7, key_reserved=9)
    kept = pending_of(hold, Settlement(MICRO, Outcome.OK, Usage(1, 2)))
    assert (kept.api_key_id, kept.key_reserved) == (7, 9)
    await FileSettlementJournal(path).add(kept)
    assert await FileSettlementJournal(path).pending() == [kept]
