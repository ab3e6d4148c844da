"""CORS over real HTTP: off by default; with CORS_ORIGINS a preflight from an allowed
origin is answered, simple, error and streamed answers carry the headers, a disallowed
origin gets none; the wildcard never comes with credentials."""

from __future__ import annotations

import pytest
from multidict import CIMultiDictProxy

from bots.settings import SettingsError, load_settings
from tests.e2e.api_harness import Api, running_api

APP = "https://app.example"
EVIL = "https://evil.example"
SDK_HEADERS = "authorization, content-type, x-stainless-os, x-stainless-lang"


async def _preflight(
    api: Api, origin: str, path: str = "/v1/chat/completions"
) -> tuple[int, CIMultiDictProxy[str]]:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": SDK_HEADERS,
    }
    async with api.http.options(api.base_url + path, headers=headers) as response:
        await response.read()
        return response.status, response.headers


async def _get(
    api: Api, path: str, origin: str, token: str | None = None
) -> tuple[int, CIMultiDictProxy[str]]:
    headers = {"Origin": origin}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with api.http.get(api.base_url + path, headers=headers) as response:
        await response.read()
        return response.status, response.headers


async def _key(api: Api, name: str) -> str:
    _, token = await api.user(name)
    status, key = await api.call("POST", "/api-keys", token, json={})
    assert status == 201
    return str(key["key"])


async def test_allowed_origin_preflight_simple_error_and_stream(sqlite_url: str) -> None:
    async with running_api(sqlite_url, cors_origins=f"{APP}, http://localhost:3000") as api:
        key = await _key(api, "browser")

        status, headers = await _preflight(api, APP)
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == APP
        assert "POST" in headers["Access-Control-Allow-Methods"]
        assert headers["Access-Control-Allow-Headers"] == SDK_HEADERS
        assert int(headers["Access-Control-Max-Age"]) == 600
        assert "Origin" in headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in headers

        status, headers = await _get(api, "/v1/models", APP, key)
        assert status == 200
        assert headers["Access-Control-Allow-Origin"] == APP
        assert "Origin" in headers["Vary"]
        assert "Retry-After" in headers["Access-Control-Expose-Headers"]

        # An error the page must be able to read (here: no key) carries the headers too.
        status, headers = await _get(api, "/v1/models", "http://localhost:3000")
        assert status == 401
        assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"

        # A streamed answer: its headers go out before the handler returns.
        body = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
        }
        request_headers = {"Origin": APP, "Authorization": f"Bearer {key}"}
        async with api.http.post(
            api.base_url + "/v1/chat/completions", json=body, headers=request_headers
        ) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            assert response.headers["Access-Control-Allow-Origin"] == APP
            assert b"[DONE]" in await response.read()


async def test_disallowed_origin_gets_no_cors_headers(sqlite_url: str) -> None:
    async with running_api(sqlite_url, cors_origins=APP) as api:
        key = await _key(api, "evil")
        status, headers = await _preflight(api, EVIL)
        assert status == 403
        assert "Access-Control-Allow-Origin" not in headers
        status, headers = await _get(api, "/v1/models", EVIL, key)
        assert status == 200  # answered, but the browser will not let the page read it
        assert "Access-Control-Allow-Origin" not in headers
        # A look-alike is another origin.
        status, headers = await _preflight(api, APP + ".attacker.example")
        assert status == 403 and "Access-Control-Allow-Origin" not in headers


async def test_no_cors_by_default(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        key = await _key(api, "plain")
        status, headers = await _preflight(api, APP)
        assert status == 405  # no preflight handling: OPTIONS is no method of the API
        assert "Access-Control-Allow-Origin" not in headers
        status, headers = await _get(api, "/v1/models", APP, key)
        assert status == 200 and "Access-Control-Allow-Origin" not in headers


async def test_wildcard_without_credentials_and_credentials_with_named_origins(
    sqlite_url: str,
) -> None:
    async with running_api(sqlite_url, cors_origins="*") as api:
        status, headers = await _preflight(api, EVIL)
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in headers
    async with running_api(sqlite_url, cors_origins=APP, cors_allow_credentials=True) as api:
        status, headers = await _preflight(api, APP)
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == APP
        assert headers["Access-Control-Allow-Credentials"] == "true"


def test_settings_refuse_credentials_with_the_wildcard() -> None:
    with pytest.raises(SettingsError, match="CORS_ALLOW_CREDENTIALS"):
        load_settings(_env_file=None, cors_origins="*", cors_allow_credentials=True)
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        load_settings(_env_file=None, cors_origins="https://app.example/path")
    settings = load_settings(_env_file=None, cors_origins="https://App.example, *")
    assert settings.cors_origin_set == frozenset({"https://app.example", "*"})
