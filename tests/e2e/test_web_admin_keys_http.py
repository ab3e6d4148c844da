"""A user's API keys in the admin console, over real HTTP: an admin sees the account's
live keys with their limits and use, and revokes one for real (/v1 then answers 401);
a non-admin gets 403 and no keys; another account's key id is refused and stays live;
the revocation needs our Origin like every console write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.services.requests import Caller
from core.types import IdentityKey
from tests.e2e.api_harness import running_api
from tests.e2e.test_web_admin_http import get, jar_session, post, sign_in

CHAT = "/v1/chat/completions"
QUESTION = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Capital?"}]}


async def test_admin_lists_and_revokes_a_users_keys(db_url: str) -> None:
    async with running_api(db_url, bot_admins="api:admin") as api:
        alice_id, alice = await api.user("alice")
        bob_id, bob = await api.user("bob")
        await api.register("admin")
        expires = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
        limited = {
            "name": "ci",
            "budget_micro": 500_000_000,  # above the worst case of one request
            "expires_at": expires.isoformat(),
            "models": ["gpt-4o-mini"],
            "requests_per_minute": 30,
        }
        status, ci = await api.call("POST", "/api-keys", alice, json=limited)
        assert status == 201, ci
        status, free = await api.call("POST", "/api-keys", alice, json={"name": "laptop"})
        assert status == 201, free
        status, bobs = await api.call("POST", "/api-keys", bob, json={"name": "bob's"})
        assert status == 201, bobs
        # One paid request with the limited key: the console shows its use.
        status, _ = await api.call("POST", CHAT, ci["key"], json=QUESTION)
        assert status == 200
        keys_path = f"/web/api/admin/users/{alice_id}/keys"

        async with jar_session() as as_bob:
            await sign_in(as_bob, api, "bob")
            status, body = await get(as_bob, api, keys_path)
            assert status == 403 and set(body) == {"error"}
            revoke = f"{keys_path}/{ci['id']}/revoke"
            status, body = await post(as_bob, api, revoke, {})
            assert status == 403 and body["error"]["code"] == "forbidden"
        assert (await api.call("GET", "/v1/models", ci["key"]))[0] == 200

        async with jar_session() as admin:
            await sign_in(admin, api, "admin")
            status, body = await get(admin, api, keys_path)
            assert status == 200
            shown = {k["name"]: k for k in body["keys"]}
            assert list(shown) == ["ci", "laptop"]  # oldest first; bob's is not here
            used, unused = shown["ci"], shown["laptop"]
            assert used["id"] == ci["id"] and used["prefix"] == ci["prefix"]
            assert ci["key"].startswith(used["prefix"]) and ci["key"] not in str(body)
            assert used["budget"] == "500.00" and used["per_minute"] == 30
            assert used["models"] == ["gpt-4o-mini"] and used["expired"] is False
            assert datetime.fromisoformat(used["expires_at"]) == expires
            assert used["requests"] == 1 and used["last_used_at"] is not None
            assert used["spent"] != "0.00"
            assert unused["budget"] is None and unused["models"] is None
            assert unused["expires_at"] is None and unused["per_minute"] is None
            assert unused["requests"] == 0 and unused["last_used_at"] is None
            assert unused["spent"] == "0.00"

            # Bob's key id under Alice's account: refused (404), and it still works.
            status, body = await post(admin, api, f"{keys_path}/{bobs['id']}/revoke", {})
            assert status == 200 and body["error"]["code"] == "not_found"
            assert body["error"]["status"] == 404
            assert (await api.call("GET", "/v1/models", bobs["key"]))[0] == 200

            # From another site: refused before anything is revoked.
            path = f"{keys_path}/{ci['id']}/revoke"
            status, body = await post(admin, api, path, {}, origin="https://evil.example")
            assert status == 403 and body["error"]["code"] == "cross_site"
            assert (await api.call("GET", "/v1/models", ci["key"]))[0] == 200

            status, body = await post(admin, api, path, {})
            assert status == 200 and [k["name"] for k in body["keys"]] == ["laptop"]
            assert body["notice"].startswith("Key revoked")
            assert (await api.call("GET", "/v1/models", ci["key"]))[0] == 401
            assert (await api.call("GET", "/v1/models", free["key"]))[0] == 200
            # Revoked twice (another admin was quicker): a message, not a failure.
            status, body = await post(admin, api, path, {})
            assert status == 200 and body["error"]["code"] == "not_found"

            # Each account's own keys; an unknown account is 404.
            status, body = await get(admin, api, f"/web/api/admin/users/{bob_id}/keys")
            assert status == 200 and [k["name"] for k in body["keys"]] == ["bob's"]
            status, body = await get(admin, api, "/web/api/admin/users/999999/keys")
            assert status == 404 and body["error"]["code"] == "user_not_found"
            # Someone only on Telegram has no API credential, so no keys.
            telegram = Caller(IdentityKey("telegram", "", "4242"), display_name="tg")
            tg_account = await api.app.core.accounts.resolve(telegram)
            status, body = await get(admin, api, f"/web/api/admin/users/{tg_account.id}/keys")
            assert status == 200 and body["keys"] == []
            path = f"/web/api/admin/users/{tg_account.id}/keys/{free['id']}/revoke"
            status, body = await post(admin, api, path, {})
            assert body["error"]["code"] == "not_found"
            assert (await api.call("GET", "/v1/models", free["key"]))[0] == 200
        # The owner sees the same: the revoked key is gone from /api-keys too.
        status, mine = await api.call("GET", "/api-keys", alice)
        assert status == 200 and [k["name"] for k in mine["items"]] == ["laptop"]
