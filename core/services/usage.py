"""Each person's own spending (/usage, GET /me/usage): what they spent today, this week and
this month by feature and model, their next allowance, and the last 30 days per day for a
chart. Periods start at midnight in the allowance time zone (ALLOWANCE_TIMEZONE), the
same calendar the allowances refill on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import Banned
from core.ports import UnitOfWorkFactory
from core.services.accounts import AccountService
from core.services.allowances import Allowances, NextAllowance, Period, period_start
from core.services.requests import Caller
from core.types import Account, StatsDimension, StatsRow

CHART_DAYS = 30
WINDOWS = (("today", Period.DAILY), ("week", Period.WEEKLY), ("month", Period.MONTHLY))


@dataclass(frozen=True, slots=True)
class SpendLine:
    feature: str
    model: str
    requests: int
    credits: int  # sub-units


@dataclass(frozen=True, slots=True)
class SpendWindow:
    name: str  # today | week | month
    since: datetime
    requests: int
    credits: int
    lines: list[SpendLine]


@dataclass(frozen=True, slots=True)
class OwnUsage:
    account: Account
    windows: list[SpendWindow]
    next_allowance: NextAllowance | None
    days: list[StatsRow]  # "YYYY-MM-DD" (UTC) per day of the last CHART_DAYS, for the chart
    today: datetime  # local midnight today, for the chart's last day


def _window(name: str, since: datetime, rows: list[StatsRow]) -> SpendWindow:
    lines = []
    for row in rows:
        feature, _, model = row.key.partition(" ")
        lines.append(SpendLine(feature, model, row.requests, row.credits))
    lines.sort(key=lambda line: (-line.credits, line.feature, line.model))
    return SpendWindow(
        name,
        since,
        requests=sum(line.requests for line in lines),
        credits=sum(line.credits for line in lines),
        lines=lines,
    )


class UsageService:
    def __init__(
        self, uow: UnitOfWorkFactory, accounts: AccountService, allowances: Allowances
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._allowances = allowances

    async def own(self, caller: Caller) -> OwnUsage:
        account = await self._accounts.resolve(caller)  # applies a due allowance first
        if account.banned:
            raise Banned()
        today = self._allowances.today()
        windows = []
        async with self._uow() as uow:
            for name, period in WINDOWS:
                since = self._allowances.local_midnight(period_start(period, today))
                rows = await uow.usage.stats(since, StatsDimension.FEATURE_MODEL, account.id)
                windows.append(_window(name, since, rows))
            midnight = self._allowances.local_midnight(today)
            chart_since = midnight - timedelta(days=CHART_DAYS - 1)
            days = await uow.usage.stats(chart_since, StatsDimension.DAY, account.id)
        return OwnUsage(account, windows, self._allowances.next_for(account), days, midnight)
