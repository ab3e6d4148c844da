"""Credit grants: the one way credits are given or taken by an admin, from a chat command
or over HTTP. A grant with an idempotency key is answered once: a repeat of the key gets
the first result, the same key with another request is refused."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import BadArgument, IdempotencyConflict, UnknownUser
from core.money import PriceError, to_micro
from core.ports import GrantRecord, UnitOfWorkFactory
from core.services.events import record_event
from core.services.requests import new_request_id
from core.types import Account, LedgerEntry, LedgerKind

logger = logging.getLogger(__name__)

MAX_GRANT = 10**15  # a billion credits in sub-units: larger is a typo, not a grant


@dataclass(frozen=True, slots=True)
class GrantResult:
    record: GrantRecord
    replayed: bool


@dataclass(frozen=True, slots=True)
class Idempotency:
    key: str
    request_hash: str  # what the first request asked for; a repeat must ask the same


def parse_amount(amount: str) -> int:
    try:
        micro = to_micro(amount)
    except PriceError as exc:
        raise BadArgument(detail=str(exc)) from exc
    if micro == 0 or abs(micro) > MAX_GRANT:
        raise BadArgument(detail="amount must be non-zero and at most 1e9 credits")
    return micro


class Grants:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def grant(
        self,
        actor: Account,
        account_id: int,
        micro: int,
        reason: str | None,
        idempotency: Idempotency | None = None,
        event: tuple[str, str | None] = ("", None),
    ) -> GrantResult:
        """One ledger row and the balance change in one transaction; ``actor`` must have
        been checked to be an admin by the caller. ``event`` (platform, event id) is recorded
        in the same transaction: a redelivered command raises ``DuplicateEvent``."""
        async with self._uow() as uow:
            await record_event(uow, *event)
            if idempotency is not None:
                first = await uow.idempotency.get(actor.id, idempotency.key)
                if first is not None:
                    return _replay(first, idempotency)
            if await uow.accounts.get(account_id) is None:
                raise UnknownUser(user=f"#{account_id}")
            # The ledger's unique (request id, kind) makes a concurrent twin with the same
            # key wait for this transaction and then write nothing.
            tag = (
                f"grant:{actor.id}:{idempotency.key}"
                if idempotency
                else f"grant:{new_request_id()}"
            )
            entry = LedgerEntry(account_id, micro, LedgerKind.GRANT, tag[:100], actor.id, reason)
            written = await uow.ledger.append(entry)
            if written:
                balance = await uow.accounts.add_to_balance(account_id, micro)
                request_hash = idempotency.request_hash if idempotency else ""
                record = GrantRecord(
                    request_hash, account_id, micro, balance, reason, datetime.now(UTC)
                )
                if idempotency is not None:
                    await uow.idempotency.put(actor.id, idempotency.key, record)
                await uow.commit()
        if not written:
            assert idempotency is not None
            return await self._replay_committed(actor.id, idempotency)
        logger.info("admin %s granted %s to account %s", actor.id, micro, account_id)
        return GrantResult(record, replayed=False)

    async def _replay_committed(self, actor_id: int, idempotency: Idempotency) -> GrantResult:
        async with self._uow() as uow:
            first = await uow.idempotency.get(actor_id, idempotency.key)
        if first is None:
            raise IdempotencyConflict()
        return _replay(first, idempotency)


def _replay(first: GrantRecord, idempotency: Idempotency) -> GrantResult:
    if first.request_hash != idempotency.request_hash:
        raise IdempotencyConflict()
    return GrantResult(first, replayed=True)
