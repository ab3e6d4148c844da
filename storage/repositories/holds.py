"""Opening and closing a hold in one round trip each on Postgres.

A paid request's reservation was four statements (the account's guarded UPDATE, the
key's, the ledger's hold row, the owner row) and its settlement four more: eight round
trips plus a transaction's BEGIN/COMMIT, and each statement built and compiled by
SQLAlchemy per call. Here each is a call of a function that migration
``0010_hold_functions`` installs, holding the same statements in the same order (so the
rows written are exactly those of ``core.ports.holds.StepwiseHolds``, which SQLite and a
zero-cost hold use). The migration says why functions rather than one CTE."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.ports.holds import HoldClosing, HoldOpening, OpenedHold, StepwiseHolds
from storage.repositories._base import SqlRepository
from storage.tables import utcnow

# Written once: SQLAlchemy compiles a text clause once, asyncpg prepares it once per
# connection. The casts name each argument's type for the function's overload lookup.
OPEN_HOLD = text(
    "SELECT reserved, key_refused FROM switchboard_open_hold("
    "CAST(:account_id AS BIGINT), CAST(:request_id AS VARCHAR), CAST(:cost AS BIGINT), "
    "CAST(:overdraft AS BIGINT), CAST(:upfront AS BIGINT), CAST(:least AS BIGINT), "
    "CAST(:api_key_id AS BIGINT), CAST(:now AS TIMESTAMPTZ), CAST(:worker_id AS VARCHAR), "
    "CAST(:platform AS VARCHAR), CAST(:chat_id AS VARCHAR), CAST(:question AS TEXT))"
)
CLOSE_HOLD = text(
    "SELECT switchboard_close_hold("
    "CAST(:account_id AS BIGINT), CAST(:request_id AS VARCHAR), CAST(:refund AS BIGINT), "
    "CAST(:now AS TIMESTAMPTZ), CAST(:api_key_id AS BIGINT), CAST(:key_refund AS BIGINT), "
    "CAST(:platform AS VARCHAR), CAST(:feature AS VARCHAR), CAST(:model AS VARCHAR), "
    "CAST(:prompt_tokens AS BIGINT), CAST(:completion_tokens AS BIGINT), "
    "CAST(:credits AS BIGINT), CAST(:latency_ms AS BIGINT), CAST(:outcome AS VARCHAR), "
    "CAST(:created_at AS TIMESTAMPTZ))"
)


class PostgresHoldRepository(SqlRepository):
    def __init__(self, connection: AsyncConnection, stepwise: StepwiseHolds) -> None:
        super().__init__(connection)
        self._stepwise = stepwise

    async def open(self, opening: HoldOpening) -> OpenedHold:
        if opening.cost <= 0:
            # No account UPDATE to hang the rest on: the rare free request goes stepwise.
            return await self._stepwise.open(opening)
        if min(opening.overdraft, opening.upfront, opening.least) < 0:
            raise ValueError("a reservation cannot be negative")
        owner = opening.owner
        params = {
            "account_id": opening.account_id,
            "request_id": opening.request_id,
            "cost": opening.cost,
            "overdraft": opening.overdraft,
            "upfront": opening.upfront,
            "least": opening.least,
            "api_key_id": opening.api_key_id,
            "now": utcnow(),
            "worker_id": owner.worker_id if owner else None,
            "platform": owner.platform if owner else None,
            "chat_id": owner.chat_id if owner else None,
            "question": owner.question if owner else None,
        }
        row = (await self._execute(OPEN_HOLD, params)).one()
        return OpenedHold(int(row.reserved), key_refused=bool(row.key_refused))

    async def close(self, closing: HoldClosing) -> bool:
        event = closing.event
        params = {
            "account_id": closing.account_id,
            "request_id": closing.request_id,
            "refund": closing.refund,
            "now": closing.used_at,
            "api_key_id": closing.api_key_id,
            "key_refund": closing.key_refund,
            "platform": event.platform,
            "feature": event.feature.value,
            "model": event.model,
            "prompt_tokens": event.prompt_tokens,
            "completion_tokens": event.completion_tokens,
            "credits": event.credits,
            "latency_ms": event.latency_ms,
            "outcome": event.outcome.value,
            "created_at": event.created_at,
        }
        return bool((await self._execute(CLOSE_HOLD, params)).scalar_one())
