"""Admin endpoints refuse non-admins before reading the request (403 whatever the body,
query or path), and a credit amount may be a JSON number, taken exactly as written."""

from __future__ import annotations

from tests.e2e.api_harness import running_api


async def test_non_admin_gets_403_before_validation(sqlite_url: str) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        _, admin = await api.user("admin")
        user_id, user = await api.user("plain")
        refusals = [
            ("POST", f"/users/{user_id}/credits", {"json": {"amount": "x", "nope": 1}}),
            ("POST", f"/users/{user_id}/credits", {"data": b"not json"}),
            ("PATCH", "/users/not-a-number", {"json": {}}),
            ("GET", "/users?limit=-5", {}),
            ("GET", f"/users/{user_id}/ledger?limit=100000", {}),
            ("GET", "/stats", {}),
        ]
        for method, path, kw in refusals:
            status, body = await api.call(method, path, user, **kw)
            assert status == 403, (method, path, status, body)
            assert body["error"]["code"] == "forbidden"
        # The same invalid body from an admin is a validation error, as before.
        status, body = await api.call(
            "POST", f"/users/{user_id}/credits", admin, json={"amount": "x"}
        )
        assert status == 400
        # Without a token it is still 401, not 403.
        status, _ = await api.call("POST", f"/users/{user_id}/credits", None, json={})
        assert status == 401


async def test_grant_amount_as_json_number(sqlite_url: str) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        _, admin = await api.user("admin")
        user_id, _ = await api.user("getter")
        path = f"/users/{user_id}/credits"
        for amount, micro in ((0.1, 100_000), (2, 2_000_000), ("0.2", 200_000), (1.1, 1_100_000)):
            status, body = await api.call("POST", path, admin, json={"amount": amount})
            assert status == 200, body
            assert body["amount_micro"] == micro
        status, user = await api.call("GET", f"/users/{user_id}", admin)
        assert user["balance_micro"] == 100_000_000 + 3_400_000
        for bad in (True, None, 1e300, "1e3", [1]):
            status, body = await api.call("POST", path, admin, json={"amount": bad})
            assert status == 400, (bad, body)


async def test_openapi_documents_amount_as_string_or_number(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        status, doc = await api.call("GET", "/openapi.json")
        assert status == 200
        amount = doc["components"]["schemas"]["Grant"]["properties"]["amount"]
        assert {alt["type"] for alt in amount["anyOf"]} == {"string", "number"}
