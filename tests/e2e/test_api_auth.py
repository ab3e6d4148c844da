"""The API's security on SQLite and Postgres: the JWT matrix, refresh rotation and reuse,
login limits, logout, admin-only endpoints, a deleted account's tokens."""

from __future__ import annotations

import time

import jwt

from bots.jwt_tokens import AUDIENCE, ISSUER
from tests.e2e.api_harness import PASSWORD, Api, running_api
from tests.known_secrets import JWT_SECRET


def _forge(secret: str = JWT_SECRET, algorithm: str = "HS256", **changes: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "mallory",
        "typ": "access",
        "sv": 0,
        "jti": "x",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


def _alg_none() -> str:
    token = _forge()
    header, payload, _ = token.split(".")
    none_header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    return f"{none_header}.{payload}."


async def _me(api: Api, token: str) -> int:
    status, _ = await api.call("GET", "/users/me", token)
    return status


async def test_jwt_matrix(db_url: str) -> None:
    async with running_api(db_url) as api:
        await api.register("mallory")
        tokens = await api.login("mallory")
        assert await _me(api, tokens["access_token"]) == 200
        assert (
            await _me(api, _forge()) == 200
        )  # the forge is right: the refusals below mean something
        refused = {
            "alg none": _alg_none(),
            "HS512": _forge(algorithm="HS512"),
            "wrong signature": _forge(secret="another-secret-of-at-least-32-bytes!!"),
            "expired": _forge(exp=int(time.time()) - 5),
            "other audience": _forge(aud="someone-else"),
            "other issuer": _forge(iss="someone-else"),
            "no exp": _forge(exp=None),
            "no type": _forge(typ=None),
            "refresh as access": tokens["refresh_token"],
            "unknown user": _forge(sub="nobody"),
            "garbage": "not.a.token",
        }
        for name, token in refused.items():
            status, body = await api.call("GET", "/users/me", token)
            assert status == 401, name
            assert body["error"]["code"] == "unauthenticated", name
        assert (await api.call("GET", "/users/me"))[0] == 401
        # An access token is no refresh token either.
        status, _ = await api.call(
            "POST", "/auth/refresh", json={"refresh_token": tokens["access_token"]}
        )
        assert status == 401


async def test_refresh_rotation_and_reuse_revokes_the_family(db_url: str) -> None:
    async with running_api(db_url) as api:
        await api.register("rita")
        first = await api.login("rita")
        status, second = await api.call(
            "POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert status == 200 and second["refresh_token"] != first["refresh_token"]
        assert await _me(api, second["access_token"]) == 200
        # The old one again: refused, and the whole family with it.
        status, body = await api.call(
            "POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert status == 401 and body["error"]["code"] == "unauthenticated"
        status, _ = await api.call(
            "POST", "/auth/refresh", json={"refresh_token": second["refresh_token"]}
        )
        assert status == 401
        # Another login (another family) is unaffected.
        third = await api.login("rita")
        status, _ = await api.call(
            "POST", "/auth/refresh", json={"refresh_token": third["refresh_token"]}
        )
        assert status == 200


async def test_logout_and_password_change_refuse_older_tokens(db_url: str) -> None:
    async with running_api(db_url) as api:
        await api.register("lou")
        old = await api.login("lou")
        status, _ = await api.call("POST", "/auth/logout", old["access_token"])
        assert status == 204
        assert await _me(api, old["access_token"]) == 401
        status, _ = await api.call(
            "POST", "/auth/refresh", json={"refresh_token": old["refresh_token"]}
        )
        assert status == 401
        fresh = await api.login("lou")
        assert await _me(api, fresh["access_token"]) == 200
        status, body = await api.call(
            "PATCH", "/users/me", fresh["access_token"], json={"password": "new password 2"}
        )
        assert status == 422 and body["error"]["code"] == "bad_argument"
        status, _ = await api.call(
            "PATCH",
            "/users/me",
            fresh["access_token"],
            json={"password": "new password 2", "current_password": PASSWORD},
        )
        assert status == 200
        assert await _me(api, fresh["access_token"]) == 401
        await api.login("lou", "new password 2")


async def test_login_limits_per_account_and_per_address(db_url: str) -> None:
    async with running_api(db_url) as api:
        await api.register("lim")
        for _ in range(5):
            status, _ = await api.call(
                "POST", "/auth/login", json={"username": "lim", "password": "wrong-password"}
            )
            assert status == 401
        # Locked now, even with the right password.
        status, body = await api.call(
            "POST", "/auth/login", json={"username": "lim", "password": PASSWORD}
        )
        assert status == 429 and body["error"]["code"] == "too_many_logins"
        # The address is over its limit too: another account from here is refused.
        await api.register("other")
        status, _ = await api.call(
            "POST", "/auth/login", json={"username": "other", "password": PASSWORD}
        )
        assert status == 429


async def test_login_limits_in_redis(sqlite_url: str, redis_url: str) -> None:
    async with running_api(sqlite_url, redis_url=redis_url) as api:
        name = f"r{int(time.time() * 1000) % 10**9}"
        await api.register(name)
        statuses = []
        for _ in range(6):
            status, _ = await api.call(
                "POST", "/auth/login", json={"username": name, "password": "wrong-password"}
            )
            statuses.append(status)
        assert statuses == [401] * 5 + [429]
        redis = api.app.kv.redis
        assert redis is not None
        prefix = f"{api.app.settings.redis_prefix}login:"  # deleted after the test
        assert await redis.exists(f"{prefix}user:{name}") == 1


async def test_admin_only_endpoints_refused_for_users_and_role_change_refuses_tokens(
    db_url: str,
) -> None:
    async with running_api(db_url, bot_admins="api:boss") as api:
        boss_id, boss = await api.user("boss")
        user_id, user = await api.user("pat")
        for method, path, body in [
            ("GET", "/users", None),
            ("GET", f"/users/{boss_id}", None),
            ("PATCH", f"/users/{boss_id}", {"role": "user"}),
            ("POST", f"/users/{user_id}/credits", {"amount": "5"}),
            ("GET", f"/users/{boss_id}/ledger", None),
            ("GET", f"/messages?user_id={boss_id}", None),
            ("GET", "/stats", None),
        ]:
            status, answer = await api.call(method, path, user, json=body)
            assert status == 403, (method, path)
            assert answer["error"]["code"] == "forbidden"
        status, page = await api.call("GET", "/users?q=pa", boss)
        assert status == 200 and [u["id"] for u in page["items"]] == [user_id]
        status, _ = await api.call("GET", "/stats", boss)
        assert status == 200
        # A role change refuses the tokens issued before it.
        status, changed = await api.call("PATCH", f"/users/{user_id}", boss, json={"role": "guest"})
        assert status == 200 and changed["role"] == "guest"
        assert await _me(api, user) == 401
        # A ban too; and a banned user cannot log in.
        user = (await api.login("pat"))["access_token"]
        status, _ = await api.call("PATCH", f"/users/{user_id}", boss, json={"banned": True})
        assert status == 200
        assert await _me(api, user) == 401
        status, _ = await api.call(
            "POST", "/auth/login", json={"username": "pat", "password": PASSWORD}
        )
        assert status == 403


async def test_deleted_account_tokens_and_keys_are_refused(db_url: str) -> None:
    async with running_api(db_url) as api:
        account_id, token = await api.user("gone")
        status, key = await api.call("POST", "/api-keys", token, json={"name": "ci"})
        assert status == 201 and key["key"].startswith("sb-")
        assert (await api.call("GET", "/v1/models", key["key"]))[0] == 200
        assert (await api.call("GET", "/users/me", key["key"]))[0] == 401  # keys: /v1 only
        status, _ = await api.call("DELETE", "/users/me", token)
        assert status == 204
        assert await _me(api, token) == 401
        assert (await api.call("GET", "/v1/models", key["key"]))[0] == 401
        status, _ = await api.call(
            "POST", "/auth/login", json={"username": "gone", "password": PASSWORD}
        )
        assert status == 401
        async with api.app.core.accounts._uow() as uow:  # the data is gone, not hidden
            assert await uow.accounts.get(account_id) is None
            assert await uow.ledger.entries(account_id, 10) == []
        # The name is free again.
        await api.register("gone")


async def test_errors_are_json_and_malformed_input_is_refused(sqlite_url: str) -> None:
    async with running_api(sqlite_url, api_max_json_bytes=2048) as api:
        _, token = await api.user("fmt")
        cases = [
            (
                "POST",
                "/auth/login",
                {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
                400,
            ),
            ("POST", "/auth/login", {"data": b"x", "headers": {"Content-Type": "text/plain"}}, 415),
            (
                "POST",
                "/auth/login",
                {"json": {"username": "fmt", "password": PASSWORD, "x": 1}},
                400,
            ),
            ("POST", "/auth/login", {"json": [1, 2]}, 400),
            ("POST", "/ask", {"json": {"text": "x" * 5000}}, 413),
            ("POST", "/ask", {"json": {"text": "   "}}, 422),
            ("GET", "/users/abc", {}, 403),  # admin-only: the role is checked first
            ("DELETE", "/balance", {}, 405),
            ("GET", "/no/such/thing", {}, 404),
            ("GET", "/messages?limit=1000", {}, 400),
        ]
        for method, path, kw, expected in cases:
            status, body = await api.call(method, path, token, **kw)
            assert status == expected, (method, path, body)
            assert set(body["error"]) == {"code", "message"}
