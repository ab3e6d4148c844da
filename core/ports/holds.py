"""Opening and closing a hold: the writes of a paid request's reservation and of its
settlement, each asked for as one operation so that a database able to do them in one
statement can (Postgres: one round trip each instead of four to six).

``StepwiseHolds`` is the reference behaviour, written with the other repositories one
statement at a time; a single-statement implementation must leave the same rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.ports.accounts import AccountRepository
from core.ports.auth import ApiKeyRepository
from core.ports.conversations import UsageRepository
from core.ports.leases import LeaseRepository
from core.ports.ledger import LedgerRepository
from core.types import LedgerEntry, LedgerKind, UsageEvent


@dataclass(frozen=True, slots=True)
class HoldOwner:
    """The worker whose lease covers the hold (settled by the sweep if it dies)."""

    worker_id: str
    platform: str
    chat_id: str
    question: str | None = None  # kept for /retry


@dataclass(frozen=True, slots=True)
class HoldOpening:
    """Reserve ``min(cost, balance + overdraft)`` of the account's credits, refused when
    the balance is not above zero, is below ``upfront``, or with the overdraft is below
    ``least``, or the account is banned. With ``api_key_id`` the key's budget is held for
    the whole ``cost``."""

    account_id: int
    request_id: str
    cost: int
    overdraft: int = 0
    upfront: int = 0
    least: int = 0
    api_key_id: int | None = None
    owner: HoldOwner | None = None


@dataclass(frozen=True, slots=True)
class OpenedHold:
    """``reserved`` 0 with a positive cost: refused, nothing written. ``key_refused``
    (``reserved`` 0 too): the key's budget could not take the cost; the caller leaves its
    unit of work without committing, and nothing stays (``StepwiseHolds`` relies on that
    rollback; a one-call implementation undoes its own part, so that it is whole outside
    a transaction too)."""

    reserved: int
    key_refused: bool = False


@dataclass(frozen=True, slots=True)
class HoldClosing:
    """The settlement: ``refund`` back to the balance (negative: charged beyond the hold),
    the key's unused budget ``key_refund`` and its use, and the usage event."""

    account_id: int
    request_id: str
    refund: int
    event: UsageEvent
    used_at: datetime
    api_key_id: int | None = None
    key_refund: int = 0


class HoldRepository(Protocol):
    async def open(self, opening: HoldOpening) -> OpenedHold:
        """The reservation, the key's budget, the ledger's hold row and the owner row."""
        ...

    async def close(self, closing: HoldClosing) -> bool:
        """The ledger's settle row, the balance, the key's use and the usage event; False
        (and nothing written) if the request was settled already. One statement where the
        database allows it: a caller may run it in a unit of work that is not ``atomic``."""
        ...


class StepwiseHolds:
    """``HoldRepository`` out of the other repositories, a statement at a time."""

    def __init__(
        self,
        accounts: AccountRepository,
        api_keys: ApiKeyRepository,
        ledger: LedgerRepository,
        leases: LeaseRepository,
        usage: UsageRepository,
    ) -> None:
        self._accounts = accounts
        self._api_keys = api_keys
        self._ledger = ledger
        self._leases = leases
        self._usage = usage

    async def open(self, opening: HoldOpening) -> OpenedHold:
        reserved = 0
        if opening.cost > 0:
            reserved = await self._accounts.reserve(
                opening.account_id,
                opening.cost,
                overdraft=opening.overdraft,
                upfront=opening.upfront,
                least=opening.least,
            )
            if reserved == 0:
                return OpenedHold(0)
        key = opening.api_key_id
        if key is not None and not await self._api_keys.reserve(key, opening.cost):
            return OpenedHold(0, key_refused=True)  # the caller's rollback undoes the rest
        entry = LedgerEntry(
            opening.account_id, -reserved, LedgerKind.HOLD, opening.request_id, api_key_id=key
        )
        await self._ledger.append(entry)
        owner = opening.owner
        if owner is not None:
            await self._leases.own(
                opening.request_id,
                owner.worker_id,
                owner.platform,
                owner.chat_id,
                opening.account_id,
                owner.question,
            )
        return OpenedHold(reserved)

    async def close(self, closing: HoldClosing) -> bool:
        entry = LedgerEntry(
            closing.account_id, closing.refund, LedgerKind.SETTLE, closing.request_id
        )
        if not await self._ledger.append(entry):
            return False
        if closing.refund:
            await self._accounts.add_to_balance(closing.account_id, closing.refund)
        if closing.api_key_id is not None:
            await self._api_keys.settle(closing.api_key_id, closing.key_refund, closing.used_at)
        await self._usage.record(closing.event)
        return True
