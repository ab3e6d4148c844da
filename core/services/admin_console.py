"""What the admin console at ``/admin`` reads beside the directory: each user's last
activity, one user's page and API keys (with revocation), 30 days of usage per day by
platform and by model, and the system's state. Every use case checks admin rights first (``require_admin``), so a page
or a script that is not an admin's gets ``NotAllowed`` and no data."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core.errors import NotFound
from core.models_config import ModelCatalog, ModelSpec
from core.ports import ApiKeyRecord, HealthProbe, UnitOfWorkFactory, UserEntry
from core.services.admin import AdminService
from core.services.auth import Principal
from core.services.topics import PopularTopics, TopicReport
from core.types import Exchange, LedgerEntry, StatsDimension, StatsRow

logger = logging.getLogger(__name__)

USAGE_DAYS = 30
TOPIC_SAMPLE = 2000  # the newest questions of the period the topics are drawn from


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    entry: UserEntry
    last_active: datetime | None  # the last request; None: never asked anything


@dataclass(frozen=True, slots=True)
class UserPage:
    user: ConsoleUser
    ledger: list[LedgerEntry]  # newest first
    questions: list[Exchange]  # newest first


@dataclass(frozen=True, slots=True)
class DailyRow:
    day: str  # YYYY-MM-DD (UTC)
    key: str  # the platform or the model
    row: StatsRow


@dataclass(frozen=True, slots=True)
class UsageReport:
    days: list[str]  # the period's UTC days, oldest first, every day present
    by_platform: list[DailyRow]
    by_model: list[DailyRow]
    per_day: list[StatsRow]  # key = the day: the totals of each day (errors included)
    totals: StatsRow  # key = "total"


@dataclass(frozen=True, slots=True)
class SystemReport:
    database: str  # HealthProbe.database(): ok | unavailable | locked | read_only
    redis: str  # HealthProbe.shared_state(): off | ok | degraded
    open_reservations: int  # holds not settled yet (answers being made, or stuck)
    models: list[ModelSpec]


def _split(rows: Sequence[StatsRow]) -> list[DailyRow]:
    """``"2026-12-04 telegram"`` rows → (day, key, row)."""
    out = []
    for row in rows:
        day, _, key = row.key.partition(" ")
        out.append(DailyRow(day, key, row))
    return out


def _total(rows: Sequence[StatsRow], key: str) -> StatsRow:
    return StatsRow(
        key=key,
        requests=sum(r.requests for r in rows),
        prompt_tokens=sum(r.prompt_tokens for r in rows),
        completion_tokens=sum(r.completion_tokens for r in rows),
        credits=sum(r.credits for r in rows),
        errors=sum(r.errors for r in rows),
    )


def period_days(today: date, days: int = USAGE_DAYS) -> list[str]:
    return [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


class AdminConsole:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        admin: AdminService,
        models: ModelCatalog,
        probe: HealthProbe,
        topics: PopularTopics | None = None,
    ) -> None:
        self._uow = uow
        self._admin = admin
        self._models = models
        self._probe = probe
        self._topics = topics or PopularTopics()

    async def users(
        self, principal: Principal, query: str | None, offset: int, limit: int
    ) -> tuple[list[ConsoleUser], int]:
        entries, total = await self._admin.users(principal, query, offset, limit)
        async with self._uow() as uow:
            seen = await uow.usage.last_activity([e.account.id for e in entries])
        return [ConsoleUser(e, seen.get(e.account.id)) for e in entries], total

    async def user(
        self, principal: Principal, account_id: int, ledger_size: int, questions: int
    ) -> UserPage:
        entry = await self._admin.user(principal, account_id)
        async with self._uow() as uow:
            seen = await uow.usage.last_activity([account_id])
            ledger = await uow.ledger.entries(account_id, ledger_size)
            asked = await uow.conversations.history(account_id, questions)
        return UserPage(ConsoleUser(entry, seen.get(account_id)), ledger, asked)

    async def keys_of(self, principal: Principal, account_id: int) -> list[ApiKeyRecord]:
        """The live API keys of the account's credentials (an account linked from several
        has keys under each), oldest first; none without an API credential."""
        await self._admin.user(principal, account_id)  # admins only; unknown account: 404
        async with self._uow() as uow:
            keys = [
                key
                for credential in await uow.credentials.for_account(account_id)
                for key in await uow.api_keys.list(credential.id)
            ]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    async def revoke_key(self, principal: Principal, account_id: int, key_id: int) -> None:
        """Revoke one of the account's keys; the next request made with it is refused (a
        key is read afresh on every request). A key id of another account is NotFound:
        the account in the URL is the one whose keys the admin is looking at."""
        actor = await self._admin.require_admin(principal.caller, "revoke_key")
        await self._admin.user(principal, account_id)  # unknown account: 404
        async with self._uow() as uow:
            for credential in await uow.credentials.for_account(account_id):
                if await uow.api_keys.revoke(credential.id, key_id):
                    await uow.commit()
                    break
            else:
                raise NotFound()
        logger.info("admin %s revoked API key %s of account %s", actor.id, key_id, account_id)

    async def usage(self, principal: Principal, now: datetime | None = None) -> UsageReport:
        await self._admin.require_admin(principal.caller, "usage")
        now = now or datetime.now(UTC)
        days = period_days(now.astimezone(UTC).date())
        since = datetime.fromisoformat(days[0]).replace(tzinfo=UTC)
        async with self._uow() as uow:
            by_platform = await uow.usage.stats(since, StatsDimension.DAY_PLATFORM)
            by_model = await uow.usage.stats(since, StatsDimension.DAY_MODEL)
            per_day = await uow.usage.stats(since, StatsDimension.DAY)
        return UsageReport(
            days=days,
            by_platform=_split(by_platform),
            by_model=_split(by_model),
            per_day=per_day,
            totals=_total(per_day, "total"),
        )

    async def topics(self, principal: Principal, now: datetime | None = None) -> TopicReport:
        """The popular topics of the usage period: cached, and extracted in a worker thread
        (see ``core.services.topics``), so this never holds up the event loop."""
        await self._admin.require_admin(principal.caller, "topics")
        now = now or datetime.now(UTC)
        since = datetime.fromisoformat(period_days(now.date())[0]).replace(tzinfo=UTC)

        async def questions() -> list[str]:
            async with self._uow() as uow:
                return await uow.conversations.questions_since(since, TOPIC_SAMPLE)

        return await self._topics.report(since.date().isoformat(), questions)

    async def system(self, principal: Principal) -> SystemReport:
        await self._admin.require_admin(principal.caller, "system")
        database = await self._probe.database()
        open_holds = -1  # unknown: the database did not answer
        if database in {"ok", "locked", "read_only"}:
            async with self._uow() as uow:
                open_holds = await uow.ledger.count_open_holds()
        models = sorted(self._models.models.values(), key=lambda m: (m.kind.value, m.name))
        return SystemReport(database, self._probe.shared_state(), open_holds, models)
