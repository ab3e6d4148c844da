"""API keys as virtual keys over real HTTP: the limits set through /api-keys are enforced
on /v1 (budget, expiry, models, requests per minute), and the key's use is shown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientResponse

from core.types import LedgerKind
from tests.e2e.api_harness import Api, running_api

CHAT = "/v1/chat/completions"
UPSTREAM_CHAT = "/chat/completions"  # as the fake model server records it
QUESTION = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Capital?"}]}


async def _new_key(api: Api, token: str, **limits: Any) -> dict[str, Any]:
    status, key = await api.call("POST", "/api-keys", token, json=limits)
    assert status == 201, key
    return dict(key)


async def _ledger(api: Api, account_id: int, request_id: str, kind: LedgerKind) -> int:
    async with api.app.core.accounts._uow() as uow:
        rows = await uow.ledger.entries(account_id, 1000)
    [amount] = [r.amount for r in rows if r.request_id == request_id and r.kind is kind]
    return amount


async def test_concurrent_requests_on_a_key_make_one_upstream_call(
    pg_url: str, redis_url: str
) -> None:
    """Postgres and Redis, as in production: eight requests at once on a key whose budget
    covers one and a half of them. One reaches the model; seven are refused with nothing
    charged; the key shows exactly what the one cost."""
    async with running_api(pg_url, redis_url=redis_url, welcome_credits="1000") as api:
        account_id, token = await api.user("budget")
        # The worst case of this request, as the reservation computes it.
        free = await _new_key(api, token)
        headers = {"Authorization": f"Bearer {free['key']}"}
        async with api.http.post(api.base_url + CHAT, json=QUESTION, headers=headers) as r:
            assert r.status == 200, await r.text()
            # The completion's id is the upstream's; ours names the ledger rows.
            request_id = r.headers["X-Request-Id"]
        worst = -await _ledger(api, account_id, request_id, LedgerKind.HOLD)
        assert worst > 0

        key = await _new_key(api, token, name="one", budget_micro=worst * 3 // 2)
        # The admitted request streams one chunk and then hangs, so it is still holding
        # its reservation while the other seven try theirs.
        api.llm.script(reply="Paris is the capital.", hang=True, hang_after=1)
        before = len(api.llm.requests_to(UPSTREAM_CHAT))
        assert before == 1  # the first request's
        headers = {"Authorization": f"Bearer {key['key']}"}
        body = {**QUESTION, "stream": True}
        responses = await asyncio.gather(
            *(api.http.post(api.base_url + CHAT, json=body, headers=headers) for _ in range(8))
        )
        try:
            assert sorted(r.status for r in responses) == [200] + [429] * 7
            refused = [await r.json() for r in responses if r.status == 429]
            assert {b["error"]["code"] for b in refused} == {"key_budget_exhausted"}
            [streaming] = [r for r in responses if r.status == 200]
            assert (await streaming.content.readline()).startswith(b"data: ")
            assert len(api.llm.requests_to(UPSTREAM_CHAT)) == before + 1
        finally:
            for response in responses:
                _leave(response)  # the client leaves: charged for what was produced

        shown = await _settled_use(api, token, key["id"])
        assert shown["requests"] == 1 and shown["last_used_at"] is not None
        assert 0 < shown["spent_micro"] < worst  # the cut answer, not the worst case
        assert shown["remaining_micro"] == worst * 3 // 2 - shown["spent_micro"]
        assert "key" not in shown
        async with api.app.core.accounts._uow() as uow:
            account = await uow.accounts.get(account_id)
            assert account is not None
            assert account.balance == await uow.ledger.sum_for(account_id)

        # A budget lowered to what was spent refuses; removing it lets the key go on.
        api.llm.script(reply="Paris.")
        path = f"/api-keys/{key['id']}"
        status, _ = await api.call(
            "PATCH", path, token, json={"budget_micro": shown["spent_micro"]}
        )
        assert status == 200
        assert (await api.call("POST", CHAT, key["key"], json=QUESTION))[0] == 429
        assert (await api.call("PATCH", path, token, json={"budget_micro": None}))[0] == 200
        assert (await api.call("POST", CHAT, key["key"], json=QUESTION))[0] == 200

        # The key's own rate, counted in Redis (under its own name, not the account's).
        slow = await _new_key(api, token, requests_per_minute=1)
        assert (await api.call("POST", CHAT, slow["key"], json=QUESTION))[0] == 200
        status, body = await api.call("POST", CHAT, slow["key"], json=QUESTION)
        assert (status, body["error"]["code"]) == (429, "rate_limit_exceeded")
        assert (await api.call("POST", CHAT, free["key"], json=QUESTION))[0] == 200


def _leave(response: ClientResponse) -> None:
    """Reset the connection: a FIN alone goes unnoticed by a server that is not writing
    (it is waiting on the hung upstream), a reset is seen at once."""
    connection = response.connection
    if connection is not None and connection.transport is not None:
        connection.transport.abort()
    response.close()


async def _settled_use(api: Api, token: str, key_id: int) -> dict[str, Any]:
    """The key as shown once the cut request has settled (the server settles it as soon
    as it notices the client left; wait for that, not for a fixed time)."""
    assert await api.llm.wait_for_disconnects(1, within=10)
    for _ in range(200):
        status, shown = await api.call("GET", f"/api-keys/{key_id}", token)
        assert status == 200
        if shown["requests"] == 1:
            return dict(shown)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the cut request was never settled: {shown}")


async def test_expiry_models_and_rate_are_enforced_and_changeable(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        _, token = await api.user("limits")
        key = await _new_key(
            api, token, models=["gpt-4o-mini"], requests_per_minute=1, name="narrow"
        )
        assert (key["models"], key["requests_per_minute"]) == (["gpt-4o-mini"], 1)
        assert (key["budget_micro"], key["expires_at"], key["expired"]) == (None, None, False)
        secret = key["key"]
        status, listed = await api.call("GET", "/v1/models", secret)
        assert status == 200 and [m["id"] for m in listed["data"]] == ["gpt-4o-mini"]
        status, listed = await api.call("GET", "/v1/models", token)  # the session: all
        assert {"gpt-4o-mini", "gpt-4o", "gpt-image-1"} <= {m["id"] for m in listed["data"]}

        # A model the key does not allow: 403, whatever the path (chat or media).
        other = {**QUESTION, "model": "gpt-4o"}
        status, body = await api.call("POST", CHAT, secret, json=other)
        assert (status, body["error"]["code"]) == (403, "model_not_allowed_for_key")
        image = {"model": "gpt-image-1", "prompt": "a red square"}
        status, body = await api.call("POST", "/v1/images/generations", secret, json=image)
        assert (status, body["error"]["code"]) == (403, "model_not_allowed_for_key")

        # One request a minute: the second is refused with Retry-After.
        assert (await api.call("POST", CHAT, secret, json=QUESTION))[0] == 200
        async with api.http.post(
            api.base_url + CHAT, json=QUESTION, headers={"Authorization": f"Bearer {secret}"}
        ) as response:
            assert response.status == 429
            assert 1 <= int(response.headers["Retry-After"]) <= 60

        # null removes a limit; a field left out stays.
        status, changed = await api.call(
            "PATCH", f"/api-keys/{key['id']}", token, json={"requests_per_minute": None}
        )
        assert status == 200
        assert (changed["requests_per_minute"], changed["models"]) == (None, ["gpt-4o-mini"])
        assert (await api.call("POST", CHAT, secret, json=QUESTION))[0] == 200

        # Expired: 401 everywhere under /v1, and shown as expired.
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        status, changed = await api.call(
            "PATCH", f"/api-keys/{key['id']}", token, json={"expires_at": past}
        )
        assert status == 200 and changed["expired"] is True
        assert (await api.call("GET", "/v1/models", secret))[0] == 401
        assert (await api.call("POST", CHAT, secret, json=QUESTION))[0] == 401
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        status, _ = await api.call(
            "PATCH", f"/api-keys/{key['id']}", token, json={"expires_at": future}
        )
        assert status == 200
        assert (await api.call("GET", "/v1/models", secret))[0] == 200


async def test_key_management_is_checked(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        _, token = await api.user("owner")
        _, stranger = await api.user("stranger")
        key = await _new_key(api, token)
        path = f"/api-keys/{key['id']}"
        # Unknown models, a naive time, an empty change, a key managing keys: refused.
        status, body = await api.call("POST", "/api-keys", token, json={"models": ["nope"]})
        assert (status, body["error"]["code"]) == (422, "bad_argument")
        naive = {"expires_at": "2030-01-01T00:00:00"}
        assert (await api.call("POST", "/api-keys", token, json=naive))[0] == 400
        assert (await api.call("PATCH", path, token, json={}))[0] == 400
        assert (await api.call("POST", "/api-keys", key["key"], json={}))[0] == 401
        # Someone else's key does not exist for them.
        assert (await api.call("GET", path, stranger))[0] == 404
        assert (await api.call("PATCH", path, stranger, json={"budget_micro": 1}))[0] == 404
        assert (await api.call("DELETE", path, stranger))[0] == 404
        # Revoked: gone from the list, and refused.
        assert (await api.call("DELETE", path, token))[0] == 204
        assert (await api.call("GET", path, token))[0] == 404
        status, listed = await api.call("GET", "/api-keys", token)
        assert status == 200 and listed["items"] == []
        assert (await api.call("GET", "/v1/models", key["key"]))[0] == 401
