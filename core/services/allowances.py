"""Allowances that refill: per role (or, an admin's override, per account) an amount each
day, week or month, applied at the period's start in a configured time zone.

Applied lazily, at the account's next contact (any command or request resolves the
account first): no job runs at midnight, and no cron lives outside the app. That is
enough because nobody sees a balance without contacting the bot, and it makes the rules
hold by construction:
- exactly once per period per account, however many workers: ``claim_allowance`` is one
  guarded UPDATE of the account's last applied period, and the ledger row's unique key
  ``allowance:<account>:<period>`` guards it a second time;
- a period missed while the bot was stopped is applied once, at the next contact (only the
  current period is ever applied);
- a new account gets the current period's allowance in the transaction that creates it.

``topup`` raises the balance to the amount (never lowers it); ``add`` adds the amount."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.money import to_micro
from core.ports import UnitOfWork
from core.types import Account, LedgerEntry, LedgerKind, Role

NO_ALLOWANCE = "none"


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class AllowanceMode(StrEnum):
    TOPUP = "topup"
    ADD = "add"


@dataclass(frozen=True, slots=True)
class Allowance:
    period: Period
    amount: int  # sub-units


def parse_allowance(text: str) -> Allowance:
    """``daily:20`` (credits) → an allowance. Raises ValueError."""
    period, sep, amount = text.strip().partition(":")
    if not sep:
        raise ValueError(f"{text!r} is not period:credits")
    try:
        kind = Period(period.strip().lower())
    except ValueError:
        raise ValueError(f"{period!r} is not daily, weekly or monthly") from None
    micro = to_micro(amount.strip())  # PriceError is a ValueError
    if micro < 0:
        raise ValueError(f"{text!r}: an allowance cannot be negative")
    return Allowance(kind, micro)


def parse_allowances(raw: str) -> dict[Role, Allowance]:
    """``guest:daily:2,user:daily:20,admin:monthly:0`` → per role. Raises ValueError."""
    found: dict[Role, Allowance] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        role, sep, rest = item.partition(":")
        if not sep:
            raise ValueError(f"{item!r} is not role:period:credits")
        try:
            found[Role(role.strip().lower())] = parse_allowance(rest)
        except ValueError as exc:
            raise ValueError(f"{item!r}: {exc}") from None
    return found


@dataclass(frozen=True, slots=True)
class AllowancePolicy:
    by_role: Mapping[Role, Allowance] = field(default_factory=dict)
    mode: AllowanceMode = AllowanceMode.TOPUP
    timezone: str = "UTC"

    def for_account(self, account: Account) -> Allowance | None:
        override = account.allowance_override
        if override == NO_ALLOWANCE or account.banned:
            return None
        allowance = parse_allowance(override) if override else self.by_role.get(account.role)
        return allowance if allowance is not None and allowance.amount > 0 else None


def period_start(period: Period, day: date) -> date:
    if period is Period.DAILY:
        return day
    if period is Period.WEEKLY:
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    return day.replace(day=1)


def next_start(period: Period, day: date) -> date:
    start = period_start(period, day)
    if period is Period.DAILY:
        return start + timedelta(days=1)
    if period is Period.WEEKLY:
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True, slots=True)
class NextAllowance:
    period: Period
    amount: int  # what the next period start brings (topup: the level it tops up to)
    mode: AllowanceMode
    at: datetime  # aware, in the allowance time zone


class Allowances:
    def __init__(self, policy: AllowancePolicy, clock: Callable[[], datetime]) -> None:
        self.policy = policy
        self._zone = ZoneInfo(policy.timezone)
        self._clock = clock  # read at every use: a test moves it for every worker

    def today(self) -> date:
        return self._clock().astimezone(self._zone).date()

    def local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self._zone)

    def due(self, account: Account) -> tuple[str, Allowance] | None:
        """The period key and allowance to apply now, or None (none, or applied)."""
        allowance = self.policy.for_account(account)
        if allowance is None:
            return None
        start = period_start(allowance.period, self.today())
        key = f"{allowance.period.value}:{start.isoformat()}"
        return None if account.allowance_period == key else (key, allowance)

    async def apply_in(self, uow: UnitOfWork, account: Account) -> Account:
        """Apply the current period's allowance if due, in the caller's unit of work (the
        caller commits); returns the account as it is then."""
        due = self.due(account)
        if due is None:
            return account
        key, allowance = due
        balance = await uow.accounts.claim_allowance(account.id, key)
        if balance is None:  # another worker applied it first
            return await uow.accounts.get(account.id) or account
        amount = allowance.amount
        if self.policy.mode is AllowanceMode.TOPUP:
            amount = max(0, allowance.amount - balance)
        entry = LedgerEntry(
            account.id, amount, LedgerKind.ALLOWANCE, f"allowance:{account.id}:{key}"
        )
        if await uow.ledger.append(entry) and amount:
            balance = await uow.accounts.add_to_balance(account.id, amount)
        return replace(account, balance=balance, allowance_period=key)

    def next_for(self, account: Account) -> NextAllowance | None:
        allowance = self.policy.for_account(account)
        if allowance is None:
            return None
        at = self.local_midnight(next_start(allowance.period, self.today()))
        return NextAllowance(allowance.period, allowance.amount, self.policy.mode, at)
