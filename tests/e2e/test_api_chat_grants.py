"""POST /ask as JSON and as SSE, a client that disconnects mid-stream, idempotent grants,
/messages and /balance."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from core.types import LedgerKind, Outcome
from tests.e2e.api_harness import running_api


async def test_ask_json_and_sse_then_messages(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        _, token = await api.user("asker")
        api.llm.script(reply="Plain answer")
        status, body = await api.call("POST", "/ask", token, json={"text": "first?"})
        assert status == 200 and body["text"] == "Plain answer" and body["outcome"] == "ok"
        api.llm.script(reply="Streamed answer here", chunk_chars=4)
        events = []
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        async with api.http.post(
            f"{api.base_url}/ask", json={"text": "second?"}, headers=headers
        ) as r:
            assert r.status == 200 and r.content_type == "text/event-stream"
            async for raw in r.content:
                line = raw.decode().strip()
                if line.startswith("event:"):
                    events.append([line[6:].strip()])
                elif line.startswith("data:"):
                    events[-1].append(json.loads(line[5:]))
        deltas = [e[1]["text"] for e in events if e[0] == "delta"]
        assert "".join(deltas) == "Streamed answer here" and len(deltas) > 1
        assert events[-1][0] == "done"
        done = events[-1][1]
        assert done["charge_micro"] > 0 and done["usage"]["completion_tokens"] > 0
        status, history = await api.call("GET", "/messages", token)
        assert [m["answer"] for m in history["items"]] == ["Streamed answer here", "Plain answer"]
        status, one = await api.call("GET", f"/messages/{done['request_id']}", token)
        assert status == 200 and one["question"] == "second?"
        status, balance = await api.call("GET", "/balance", token)
        spent = 100_000_000 - balance["balance_micro"]
        assert spent == body["charge_micro"] + done["charge_micro"]


async def test_sse_disconnect_stops_upstream_and_charges_what_was_produced(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        account_id, token = await api.user("leaver")
        api.llm.script(reply=" ".join(f"word{i}" for i in range(200)), delay=0.05)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        received = 0
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{api.base_url}/ask", json={"text": "long"}, headers=headers
            ) as r:
                async for raw in r.content:
                    received += raw.startswith(b"event: delta")
                    if received >= 3:
                        break
        # The session is closed: the server notices, cancels, stops the upstream, settles.
        assert await api.llm.wait_for_disconnects(1, within=5.0)
        for _ in range(50):
            async with api.app.core.accounts._uow() as uow:
                events = await uow.usage.recent(account_id, 5)
            if events:
                break
            await asyncio.sleep(0.1)
        assert events and events[0].outcome is Outcome.STOPPED
        event = events[0]
        assert 0 < event.completion_tokens < 200  # only what was produced
        async with api.app.core.accounts._uow() as uow:
            rows = [
                r
                for r in await uow.ledger.entries(account_id, 10)
                if r.request_id == event.request_id
            ]
            account = await uow.accounts.get(account_id)
            assert account is not None and account.balance == await uow.ledger.sum_for(account_id)
        assert {r.kind for r in rows} == {LedgerKind.HOLD, LedgerKind.SETTLE}
        assert -sum(r.amount for r in rows) == event.credits


async def test_idempotent_grants(db_url: str) -> None:
    async with running_api(db_url, bot_admins="api:admin") as api:
        _, admin = await api.user("admin")
        user_id, _ = await api.user("getter")
        key = {"Idempotency-Key": "grant-0001"}
        path = f"/users/{user_id}/credits"
        status, first = await api.call(
            "POST", path, admin, json={"amount": "12.5", "reason": "prize"}, headers=key
        )
        assert status == 200 and first["replayed"] is False
        assert first["balance_micro"] == 112_500_000
        status, again = await api.call(
            "POST", path, admin, json={"amount": "12.5", "reason": "prize"}, headers=key
        )
        assert status == 200 and again["replayed"] is True
        assert again["balance_micro"] == first["balance_micro"]
        status, body = await api.call(
            "POST", path, admin, json={"amount": "13", "reason": "prize"}, headers=key
        )
        assert status == 409 and body["error"]["code"] == "idempotency_conflict"
        # Concurrent repeats of a new key: one grant.
        twins = await asyncio.gather(
            *(
                api.call(
                    "POST", path, admin, json={"amount": "1"}, headers={"Idempotency-Key": "twin"}
                )
                for _ in range(5)
            )
        )
        assert all(status == 200 for status, _ in twins)
        assert sum(1 for _, b in twins if not b["replayed"]) == 1
        status, ledger = await api.call("GET", f"/users/{user_id}/ledger", admin)
        grants = [r for r in ledger["items"] if r["kind"] == "grant"]
        assert [g["amount_micro"] for g in grants] == [1_000_000, 12_500_000]
        status, user = await api.call("GET", f"/users/{user_id}", admin)
        assert user["balance_micro"] == 113_500_000
        # Without a key every call grants.
        for _ in range(2):
            await api.call("POST", path, admin, json={"amount": "1"})
        status, user = await api.call("GET", f"/users/{user_id}", admin)
        assert user["balance_micro"] == 115_500_000
