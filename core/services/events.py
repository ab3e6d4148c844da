"""Platform event ids for the free commands: a redelivered /grant, /ban or /reset changes
nothing twice and is not answered again (the same unique key as paid requests)."""

from __future__ import annotations

from core.errors import DuplicateEvent
from core.ports import UnitOfWork


async def record_event(uow: UnitOfWork, platform: str, event_id: str | None) -> None:
    """Record ``event_id`` inside the caller's transaction, before its change. A redelivery
    raises ``DuplicateEvent``, which rolls the transaction back: the change happens once.
    ``None`` (no platform id, e.g. the console or HTTP) records nothing."""
    if event_id and not await uow.events.record(platform, event_id):
        raise DuplicateEvent()
