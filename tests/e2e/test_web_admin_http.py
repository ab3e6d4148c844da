"""The admin console's server side without a browser: admins only (403 and no data for
anyone else, 401 signed out, the always-200 session probe), the Origin check on its
writes, grants idempotent by the page's key, refusals as messages, the page's headers
and language."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from tests.e2e.api_harness import PASSWORD, Api, running_api

READS = (
    "/web/api/admin/users",
    "/web/api/admin/usage",
    "/web/api/admin/topics",
    "/web/api/admin/system",
)


def jar_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(http: aiohttp.ClientSession, api: Api, username: str) -> None:
    body = {"username": username, "password": PASSWORD}
    headers = {"Origin": api.base_url}
    async with http.post(api.base_url + "/web/api/sign-in", json=body, headers=headers) as r:
        assert (await r.json())["kind"] == "signed_in"


async def get(http: aiohttp.ClientSession, api: Api, path: str) -> tuple[int, Any]:
    async with http.get(api.base_url + path) as response:
        return response.status, await response.json()


async def post(
    http: aiohttp.ClientSession, api: Api, path: str, body: Any, origin: str | None = None
) -> tuple[int, Any]:
    headers = {"Origin": origin or api.base_url}
    async with http.post(api.base_url + path, json=body, headers=headers) as response:
        return response.status, await response.json()


async def test_only_admins_get_admin_data(db_url: str) -> None:
    async with running_api(db_url, bot_admins="api:admin") as api:
        alice_id, alice_token = await api.user("alice")
        await api.register("admin")
        async with jar_session() as anonymous:
            status, session = await get(anonymous, api, "/web/api/admin/session")
            assert status == 200 and session["signed_in"] is False and not session["allowed"]
            assert session["words"]["refused"] == "This page is for Switchboard admins only."
            for path in READS:
                assert (await get(anonymous, api, path))[0] == 401
        async with jar_session() as alice:
            await sign_in(alice, api, "alice")
            status, session = await get(alice, api, "/web/api/admin/session")
            assert status == 200 and session["signed_in"] and not session["allowed"]
            for path in (*READS, f"/web/api/admin/users/{alice_id}"):
                status, body = await get(alice, api, path)
                assert status == 403 and body["error"]["code"] == "forbidden", path
                assert set(body) == {"error"}  # nothing else: no admin data
            grant = {"amount": "1000", "reason": "me", "key": "selfgrant01"}
            status, _ = await post(alice, api, f"/web/api/admin/users/{alice_id}/grant", grant)
            assert status == 403
            status, _ = await post(
                alice, api, f"/web/api/admin/users/{alice_id}", {"role": "admin"}
            )
            assert status == 403
            _, me = await get(alice, api, "/web/api/session")
            assert me["role"] == "user" and me["balance"] == "Balance: 100.00 credits"
        async with jar_session() as admin:
            await sign_in(admin, api, "admin")
            status, session = await get(admin, api, "/web/api/admin/session")
            assert session["allowed"] is True and session["username"] == "admin"
            # Asked before the first look: the topics are then cached for minutes.
            status, _ = await api.call(
                "POST", "/ask", alice_token, json={"text": "Tell me about tea"}
            )
            assert status == 200
            for path in READS:
                assert (await get(admin, api, path))[0] == 200, path
            status, usage = await get(admin, api, "/web/api/admin/usage")
            assert len(usage["days"]) == 30 and usage["totals"]["requests"] == 1
            [row] = usage["by_model"]
            assert row["day"] == usage["days"][-1] and row["requests"] == 1 and row["credits"] > 0
            assert [r["key"] for r in usage["by_platform"]] == ["api"]
            _, users = await get(admin, api, "/web/api/admin/users?q=alice")
            assert [u["id"] for u in users["items"]] == [alice_id]
            assert users["items"][0]["last_active"] is not None
            _, topics = await get(admin, api, "/web/api/admin/topics")
            assert topics["questions"] == 1 and topics["topics"][0]["phrase"] == "tea"
            status, body = await get(admin, api, "/web/api/admin/users/999999")
            assert status == 404 and body["error"]["code"] == "user_not_found"


async def test_grants_are_idempotent_by_key_and_writes_need_our_origin(sqlite_url: str) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        alice_id, _ = await api.user("alice")
        admin_id = await api.register("admin")
        path = f"/web/api/admin/users/{alice_id}/grant"
        async with jar_session() as admin:
            await sign_in(admin, api, "admin")
            grant = {"amount": "2.5", "reason": "thanks", "key": "k-0123456789"}
            status, body = await post(admin, api, path, grant, origin="https://evil.example")
            assert status == 403 and body["error"]["code"] == "cross_site"

            first = await post(admin, api, path, grant)
            again = await post(admin, api, path, grant)
            assert first[0] == again[0] == 200
            assert first[1]["replayed"] is False and again[1]["replayed"] is True
            assert again[1]["user"]["balance"] == "102.50"
            assert again[1]["notice"] == "Already granted (2.5 credits). Balance: 102.50 credits."
            grants = [e for e in again[1]["ledger"] if e["kind"] == "grant"]
            assert [(e["amount"], e["reason"]) for e in grants] == [("2.50", "thanks")]

            # The same key for another grant is refused, not answered with the first.
            status, body = await post(admin, api, path, {**grant, "amount": "3"})
            assert status == 200 and body["error"]["code"] == "idempotency_conflict"
            # Taking credits, and a bad amount (a message, nothing changes).
            take = {"amount": "-0.5", "reason": "", "key": "k-take-000001"}
            status, body = await post(admin, api, path, take)
            assert body["user"]["balance"] == "102.00"
            status, body = await post(
                admin, api, path, {**take, "amount": "many", "key": "k-bad-0001"}
            )
            assert body["error"]["code"] == "bad_argument"
            assert body["error"]["message"].startswith("Invalid argument")

            # An admin cannot ban themselves: a message, still an admin.
            status, body = await post(
                admin, api, f"/web/api/admin/users/{admin_id}", {"banned": True}
            )
            assert status == 200 and body["error"]["code"] == "bad_argument"
            status, body = await post(
                admin, api, f"/web/api/admin/users/{alice_id}", {"role": "boss"}
            )
            assert status == 400


async def test_the_page_has_the_security_headers_and_the_browsers_language(
    sqlite_url: str,
) -> None:
    async with running_api(sqlite_url) as api:
        headers = {"Accept-Language": "ru-RU,ru;q=0.9"}
        async with api.http.get(api.base_url + "/admin", headers=headers) as response:
            page = await response.text()
            assert response.status == 200
            assert response.headers["Cache-Control"] == "no-cache"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert '<html lang="ru">' in page and "Switchboard: администрирование" in page
        assert "{{" not in page and "<script>" not in page
        assert "http://" not in page and "https://" not in page
        assets = re.findall(r'(?:src|href)="(/web/static/[0-9a-f]{12}/[\w.-]+)"', page)
        assert len(assets) == 4  # favicon, two style sheets, the module
        for path in assets:
            async with api.http.get(api.base_url + path) as response:
                assert response.status == 200
                assert "immutable" in response.headers["Cache-Control"]
        async with api.http.get(
            api.base_url + assets[-1].replace("admin.js", "admin-charts.js")
        ) as r:
            assert r.status == 200 and r.content_type == "text/javascript"
        status, session = await api.call("GET", "/web/api/admin/session", headers=headers)
        assert status == 200 and session["language"] == "ru"
        assert session["words"]["grant"] == "Начислить"
        assert session["words"]["keys"] == "API-ключи"
        assert session["words"]["revoke"] == "Отозвать"
