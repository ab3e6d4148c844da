"""A worker that dies mid-answer, inside the test process: its lease is taken and beats
while a real chat reply (the real ``ChatService`` against the fake LLM) streams, then it
stops beating and a live worker's sweep (with the clock past the lease) settles its hold
and tells the chat through the running adapter (``app.notices``). The dead worker's own
reply is closed afterwards: it finds its hold settled and charges nothing more. The real
SIGKILL of a worker process is tests/ops/test_worker_signals.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bots.bootstrap import App
from core.services.leases import WorkerLease
from core.services.requests import Caller, ChatRequest
from core.services.sweep import ReservationSweeper
from core.types import TextDelta

TTL = timedelta(seconds=30)


@dataclass(frozen=True)
class Cut:
    request_id: str
    reserved: int  # what the hold took
    shown: str  # the text produced before the death


async def cut_by_a_dead_worker(
    app: App, caller: Caller, chat_id: str, question: str, produced_chars: int = 200
) -> Cut:
    """The fake LLM must stream slowly enough for ``produced_chars`` to arrive first."""
    lease = WorkerLease(
        app.uow, app.worker_id, TTL, ReservationSweeper(app.uow), progress=app.core.progress
    )
    await lease.renew()
    async with app.uow() as tx:
        before = await tx.accounts.find_by_identity(caller.identity)
    reply = await app.core.chat.start(ChatRequest(caller=caller, chat_id=chat_id, text=question))
    shown = ""
    async for event in reply.events:
        if isinstance(event, TextDelta):
            shown = event.full
            if len(shown) >= produced_chars:
                break
    await lease.renew()  # the last beat before the "kill": writes what was produced
    async with app.uow() as tx:
        after = await tx.accounts.find_by_identity(caller.identity)
    assert before is not None and after is not None
    later = datetime.now(UTC) + TTL + timedelta(seconds=1)
    sweeper = ReservationSweeper(app.uow, clock=lambda: later, notices=app.notices)
    assert await sweeper.sweep_orphans() == 1
    await reply.aclose()  # what the dead worker never did; settled already, so a no-op
    return Cut(reply.request_id, before.balance - after.balance, shown)
