"""A running API for end-to-end tests: the real app (``open_app``) on a database URL, the
fake LLM as its model server, served on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession
from pydantic import SecretStr

from bots.api.runner import bound_port, start
from bots.bootstrap import App, open_app
from bots.settings import Settings
from tests.fakes.llm_server import FakeLLM
from tests.known_secrets import JWT_SECRET, TEST_API_KEY

PASSWORD = "correct horse battery"


@dataclass
class Api:
    base_url: str
    app: App
    llm: FakeLLM
    http: ClientSession

    async def call(
        self, method: str, path: str, token: str | None = None, **kw: Any
    ) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.base_url + path, headers=headers, **kw) as r:
            body = await r.json() if r.content_type == "application/json" else await r.read()
            return r.status, body

    async def register(self, username: str, password: str = PASSWORD) -> int:
        status, body = await self.call(
            "POST", "/auth/register", json={"username": username, "password": password}
        )
        assert status == 201, body
        return int(body["id"])

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        status, body = await self.call(
            "POST", "/auth/login", json={"username": username, "password": password}
        )
        assert status == 200, body
        return dict(body)

    async def user(self, username: str) -> tuple[int, str]:
        """Register and log in: (account id, access token)."""
        account_id = await self.register(username)
        return account_id, (await self.login(username))["access_token"]


def api_settings(database_url: str, llm: FakeLLM, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "openai_base_url": llm.base_url,
        "openai_api_key": SecretStr(TEST_API_KEY),
        "jwt_secret": SecretStr(JWT_SECRET),
        "api_scrypt_n": 2**14,  # still memory-hard (16 MiB), quicker for many logins
        "rate_limits": "guest:10000/1000,user:10000/1000,admin:10000/1000",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_api(database_url: str, **overrides: Any) -> AsyncIterator[Api]:
    async with FakeLLM(api_key=TEST_API_KEY) as llm:
        async with open_app(api_settings(database_url, llm, **overrides)) as app:
            runner = await start(app, "127.0.0.1", 0)
            try:
                async with ClientSession() as http:
                    yield Api(f"http://127.0.0.1:{bound_port(runner)}", app, llm, http)
            finally:
                await runner.cleanup()


@contextmanager
def api_in_thread(database_url: str, **overrides: Any) -> Iterator[str]:
    """The API on its own event loop in a thread, for synchronous clients (schemathesis,
    a browser). Yields the base URL."""
    ready: asyncio.Future[str] | None = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        try:
            async with running_api(database_url, **overrides) as api:
                box["url"] = api.base_url
                box["api"] = api
                started.set()
                await stop.wait()
        except BaseException as exc:
            box["error"] = exc
            started.set()
            raise

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    started.wait(60)
    del ready
    if "error" in box:
        raise RuntimeError("the API did not start") from box["error"]
    try:
        yield str(box["url"])
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
