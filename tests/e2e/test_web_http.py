"""The web page's server side without a browser: security headers and caching, the
always-200 session probe, the Origin check, cookie sessions renewed from the refresh
cookie, TRUSTED_PROXIES, and the JWT secret kept in a file."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bots.api.web.proxies import client_of
from bots.jwt_secret_file import with_jwt_secret
from bots.settings import Settings, SettingsError
from tests.e2e.api_harness import PASSWORD, Api, running_api


def jar_session() -> aiohttp.ClientSession:
    # aiohttp's jar keeps no cookies for IP-address hosts unless told to.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def post(
    http: aiohttp.ClientSession, api: Api, path: str, body: Any, **headers: str
) -> tuple[int, Any, aiohttp.ClientResponse]:
    headers.setdefault("Origin", api.base_url)
    async with http.post(api.base_url + path, json=body, headers=headers) as response:
        return response.status, await response.json(), response


async def test_page_and_assets_carry_the_security_and_cache_headers(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        status, html = await api.call("GET", "/")
        async with api.http.get(api.base_url + "/") as response:
            csp = response.headers["Content-Security-Policy"]
            assert response.headers["Cache-Control"] == "no-cache"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert status == 200
        page = html.decode()
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "http://" not in page and "https://" not in page  # nothing from elsewhere
        assert "<script>" not in page  # only <script type=module src=...>
        assert "{{" not in page  # every placeholder filled
        assets = re.findall(r'(?:src|href)="(/web/static/[0-9a-f]{12}/[\w.]+)"', page)
        assert len(assets) == 3
        for path in assets:
            async with api.http.get(api.base_url + path) as response:
                assert response.status == 200
                assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        async with api.http.get(api.base_url + "/favicon.ico") as response:
            assert response.status == 200 and response.content_type == "image/svg+xml"
        async with api.http.get(api.base_url + "/web/static/000000000000/app.js") as response:
            assert response.headers["Cache-Control"] == "no-cache"  # an older page's version


async def test_signed_out_session_answers_200_in_the_browser_language(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        status, body = await api.call("GET", "/web/api/session")
        assert status == 200 and body["signed_in"] is False
        assert body["words"]["username"] == "Username"
        headers = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
        _status, body = await api.call("GET", "/web/api/session", headers=headers)
        assert body["words"]["username"] == "Имя пользователя"
        _status, html = await api.call("GET", "/", headers=headers)
        assert "Имя пользователя" in html.decode() and 'lang="ru"' in html.decode()
        for junk in ("x" * 500, "<script>", "*", ";;;,,"):
            status, body = await api.call(
                "GET", "/web/api/session", headers={"Accept-Language": junk}
            )
            assert status == 200 and body["language"] == "en"


async def test_state_changes_need_this_sites_origin(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api, jar_session() as http:
        body = {"username": "carol", "password": PASSWORD}
        for origin in ("", "https://evil.example", api.base_url.replace("127.0.0.1", "localhost")):
            status, answer, _ = await post(
                http, api, "/web/api/create-account", body, Origin=origin
            )
            assert status == 403 and answer["error"]["code"] == "cross_site"
        status, answer, _ = await post(http, api, "/web/api/create-account", body)
        assert status == 200 and answer["kind"] == "signed_in"


async def test_a_closed_bot_takes_an_invitation_code_on_create_account(sqlite_url: str) -> None:
    async with (
        running_api(sqlite_url, access="closed", bot_admins="api:root") as api,
        jar_session() as http,
    ):
        body = {"username": "gina", "password": PASSWORD}
        status, answer, _ = await post(http, api, "/web/api/create-account", body)
        assert status == 200 and answer["kind"] == "error"
        assert answer["text"].startswith("This bot is private.")
        _, root = await api.user("root")
        _, invite = await api.call("POST", "/access/invites", root, json={"uses": 1})
        with_code = {**body, "invite": f" {invite['code']} "}
        status, answer, _ = await post(http, api, "/web/api/create-account", with_code)
        assert status == 200 and answer["kind"] == "signed_in"
        # the code had one use: the next newcomer is refused with the invitation's words
        again = {"username": "hugo", "password": PASSWORD, "invite": invite["code"]}
        status, answer, _ = await post(http, api, "/web/api/create-account", again)
        assert status == 200 and answer["kind"] == "error"
        async with api.app.uow() as tx:
            assert await tx.credentials.get("hugo") is None


async def test_a_session_is_renewed_from_the_refresh_cookie_once(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api, jar_session() as http:
        await post(http, api, "/web/api/create-account", {"username": "dave", "password": PASSWORD})
        refresh = next(c.value for c in http.cookie_jar if c.key == "sb_refresh")
        # Only the refresh cookie (the access one expired): two requests at once both get
        # in, with one rotation between them, and the new pair works afterwards.
        async with jar_session() as fresh:
            fresh.cookie_jar.update_cookies({"sb_refresh": refresh})

            async def session() -> dict[str, Any]:
                async with fresh.get(
                    api.base_url + "/web/api/session", cookies={"sb_refresh": refresh}
                ) as response:
                    return dict(await response.json())

            first, second = await asyncio.gather(session(), session())
            assert first["signed_in"] and second["signed_in"]
            assert first["username"] == "dave"
        status, _ = await api.call("POST", "/auth/refresh", json={"refresh_token": refresh})
        assert status == 401  # used once: the old refresh token is spent


async def test_forwarded_headers_believed_only_from_trusted_proxies(sqlite_url: str) -> None:
    async with (
        running_api(sqlite_url, trusted_proxies="127.0.0.1/32") as api,
        jar_session() as http,
    ):
        wrong = {"password": "not the password"}

        async def attempt(user: str, client: str) -> str:
            _s, answer, _r = await post(
                http,
                api,
                "/web/api/sign-in",
                {"username": user, **wrong},
                **{"X-Forwarded-For": client},
            )
            return str(answer["text"])

        for n in range(5):
            assert (await attempt(f"user{n}", "203.0.113.7")).startswith("Wrong username")
        assert (await attempt("user5", "203.0.113.7")).startswith("Too many failed logins")
        # Another client behind the same proxy is not blocked by the first one's failures.
        assert (await attempt("user6", "198.51.100.2")).startswith("Wrong username")

        # HTTPS at the proxy: the cookies are Secure, and the Origin is the https one.
        origin = api.base_url.replace("http://", "https://")
        await api.register("erin")
        _s, answer, response = await post(
            http,
            api,
            "/web/api/sign-in",
            {"username": "erin", "password": PASSWORD},
            **{"X-Forwarded-Proto": "https", "Origin": origin},
        )
        assert answer["kind"] == "signed_in"
        assert all("Secure" in c for c in response.headers.getall("Set-Cookie"))


async def test_forwarded_headers_from_anyone_else_are_ignored(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api, jar_session() as http:
        for n in range(5):
            await post(
                http,
                api,
                "/web/api/sign-in",
                {"username": f"user{n}", "password": "nope nope nope"},
                **{"X-Forwarded-For": f"203.0.113.{n}"},
            )
        _s, answer, _r = await post(
            http,
            api,
            "/web/api/sign-in",
            {"username": "user9", "password": "nope nope"},
            **{"X-Forwarded-For": "198.51.100.9"},
        )
        assert answer["text"].startswith("Too many failed logins")  # all from 127.0.0.1


def test_client_address_walks_x_forwarded_for_from_the_right() -> None:
    proxies = (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))
    assert client_of("127.0.0.1", "203.0.113.7, 10.1.2.3", proxies) == "203.0.113.7"
    # A client cannot push a forged address past the proxy that appended the real one.
    assert client_of("127.0.0.1", "1.2.3.4, 203.0.113.7", proxies) == "203.0.113.7"
    assert client_of("127.0.0.1", "garbage, 203.0.113.7", proxies) == "203.0.113.7"
    assert client_of("192.0.2.1", "203.0.113.7", proxies) is None  # untrusted peer
    assert client_of("127.0.0.1", "", proxies) is None


def test_jwt_secret_is_made_once_owner_only_and_reused(tmp_path: Path) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    path = tmp_path / "data" / "jwt_secret"
    first, note = with_jwt_secret(settings, path)
    assert first.jwt_secret is not None and len(first.jwt_secret.get_secret_value()) >= 32
    assert note is not None and "made a random one" in note
    assert first.jwt_secret.get_secret_value() not in note
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again, note = with_jwt_secret(settings, path)
    assert again.jwt_secret == first.jwt_secret
    assert note is not None and "using the one kept" in note
    configured = Settings(_env_file=None, jwt_secret=SecretStr("short"))  # type: ignore[call-arg]
    assert with_jwt_secret(configured, path) == (configured, None)
    path.write_text("too short\n")
    with pytest.raises(SettingsError, match="holds fewer than 32 bytes"):
        with_jwt_secret(settings, path)


async def test_refusals_are_messages_for_the_conversation(sqlite_url: str) -> None:
    """Our own rate limit and an empty message: 200 with the person's words, nothing
    streamed (the page shows them like any other message)."""
    async with running_api(sqlite_url, rate_limits="user:1/1") as api, jar_session() as http:
        await post(http, api, "/web/api/create-account", {"username": "fran", "password": PASSWORD})
        async with http.post(
            api.base_url + "/web/api/send", json={"text": "hi"}, headers={"Origin": api.base_url}
        ) as response:
            assert response.content_type == "text/event-stream"
            assert b"event: done" in await response.read()
        status, answer, response = await post(http, api, "/web/api/send", {"text": "again"})
        assert status == 200 and answer["kind"] == "error"
        assert answer["text"].startswith("Too many requests.")
        status, answer, _ = await post(http, api, "/web/api/send", {"text": "/image"})
        assert status == 200 and answer["kind"] == "error"
        # Input is checked before any limit or reservation.
        assert answer["text"] == "Please add some text after the command."
