"""Forty /v1 requests at once on one API key, on Postgres and Redis as in production, the
holds opening and closing outside any transaction (one function call each): no deadlock,
no request failing, and the money exact: the ledger sums to the balance, no hold is left
open, the key's spending is the sum of its charges and its count the requests answered.
With a budget, every refusal is the key's (429 key_budget_exhausted)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import pytest

from core.types import LedgerKind
from tests.e2e.api_harness import Api, running_api
from tests.hostile_inputs import open_holds

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CHAT = "/v1/chat/completions"
QUESTION = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Capital?"}]}
AT_ONCE = 40


async def _new_key(api: Api, token: str, **limits: Any) -> dict[str, Any]:
    status, key = await api.call("POST", "/api-keys", token, json=limits)
    assert status == 201, key
    return dict(key)


async def _charges(api: Api, account_id: int, key_id: int) -> dict[str, int]:
    """What each settled request of the key was charged: its hold minus its refund."""
    async with api.app.uow() as tx:
        rows = await tx.ledger.entries(account_id, 10_000)
    held = {r.request_id: -r.amount for r in rows if r.kind is LedgerKind.HOLD}
    keys = {r.request_id for r in rows if r.kind is LedgerKind.HOLD and r.api_key_id == key_id}
    return {
        r.request_id: held[r.request_id] - r.amount
        for r in rows
        if r.kind is LedgerKind.SETTLE and r.request_id in keys and r.request_id is not None
    }


async def _worst_and_charge(api: Api, account_id: int, token: str) -> tuple[int, int]:
    """A request's hold (its worst case) and its charge, measured on a key of their own."""
    probe = await _new_key(api, token, name="probe")
    status, body = await api.call("POST", CHAT, probe["key"], json=QUESTION)
    assert status == 200, body
    async with api.app.uow() as tx:
        rows = await tx.ledger.entries(account_id, 100)
    [worst] = [-r.amount for r in rows if r.kind is LedgerKind.HOLD]
    [charge] = (await _charges(api, account_id, probe["id"])).values()
    return worst, charge


@pytest.mark.slow
@pytest.mark.parametrize("budgeted", [True, False], ids=["budget", "no-budget"])
async def test_forty_requests_at_once_on_one_key(
    pg_url: str, redis_url: str, caplog: pytest.LogCaptureFixture, budgeted: bool
) -> None:
    caplog.set_level(logging.INFO)
    async with running_api(pg_url, redis_url=redis_url, welcome_credits="1000") as api:
        account_id, token = await api.user("many")
        worst, charge = await _worst_and_charge(api, account_id, token)
        assert 0 < charge < worst
        limits: dict[str, Any] = {}
        if budgeted:
            # Admits while spent + worst <= budget: at most 6 of the 40 can be answered,
            # and the first always is.
            limits["budget_micro"] = worst + 5 * charge
        key = await _new_key(api, token, name="shared", **limits)

        async def ask() -> tuple[int, Any]:
            return await api.call("POST", CHAT, key["key"], json=QUESTION)

        results = await asyncio.gather(*(ask() for _ in range(AT_ONCE)))

        statuses = Counter(status for status, _ in results)
        assert set(statuses) <= {200, 429}, results
        refusals = {body["error"]["code"] for status, body in results if status == 429}
        assert refusals <= {"key_budget_exhausted"}, results
        answered = statuses[200]
        if budgeted:
            assert 1 <= answered <= 6 and refusals == {"key_budget_exhausted"}, statuses
        else:
            assert answered == AT_ONCE, statuses

        assert await open_holds(api.app.uow) == []
        charges = await _charges(api, account_id, key["id"])
        assert len(charges) == answered  # a refused request left no hold of the key
        status, shown = await api.call("GET", f"/api-keys/{key['id']}", token)
        assert status == 200
        assert shown["spent_micro"] == sum(charges.values())
        assert shown["requests"] == answered
        async with api.app.uow() as tx:
            account = await tx.accounts.get(account_id)
            assert account is not None
            assert account.balance == await tx.ledger.sum_for(account_id)
    assert "deadlock" not in caplog.text.lower()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
