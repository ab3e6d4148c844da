"""What a key's limits cost the database: SQL statements per /v1/chat/completions request
made with a session token, a key without limits and a key with every limit (budget,
expiry, models, requests per minute), counted on the engine, on Postgres or SQLite.

    .venv/bin/python -m bench.key_statements [--db sqlite|postgres] [--requests 50]

The key's budget is one more guarded UPDATE in the reservation's transaction and its use
one more UPDATE in the settlement's; neither adds a transaction. (Statements, not time:
the machine is shared, and the count is what the design promises.)"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.common import private_journal, scratch_postgres
from tests.fakes.llm_server import FakeLLM

QUESTION = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


class StatementCounter:
    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.kinds[statement.split(None, 1)[0].upper()] += 1

    def total(self) -> int:
        return sum(self.kinds.values())


@asynccontextmanager
async def _api(db_url: str) -> AsyncIterator[tuple[str, FakeLLM]]:
    from bots.api.runner import bound_port, start
    from bots.bootstrap import open_app
    from bots.settings import Settings

    async with FakeLLM(api_key="sk-bench") as llm:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url,
            settlement_journal=private_journal(),
            openai_base_url=llm.base_url,
            openai_api_key=SecretStr("sk-bench"),
            jwt_secret=SecretStr("bench-secret-" + "x" * 40),
            rate_limits="user:1000000/100000",
            welcome_credits="1000000",
        )
        async with open_app(settings) as app:
            runner = await start(app, "127.0.0.1", 0)
            try:
                yield f"http://127.0.0.1:{bound_port(runner)}", llm
            finally:
                await runner.cleanup()


async def _per_request(
    http: aiohttp.ClientSession, url: str, bearer: str, counter: StatementCounter, n: int
) -> tuple[float, Counter[str]]:
    counter.kinds.clear()
    for _ in range(n):
        headers = {"Authorization": f"Bearer {bearer}"}
        async with http.post(f"{url}/v1/chat/completions", json=QUESTION, headers=headers) as r:
            assert r.status == 200, await r.text()
    return counter.total() / n, Counter({k: v // n for k, v in counter.kinds.items()})


async def run(db_url: str, requests: int) -> None:
    counter = StatementCounter()
    event.listen(Engine, "before_cursor_execute", counter)
    try:
        async with _api(db_url) as (url, _), aiohttp.ClientSession() as http:
            creds = {"username": "bench", "password": "bench password"}
            await http.post(f"{url}/auth/register", json=creds)
            async with http.post(f"{url}/auth/login", json=creds) as r:
                token = (await r.json())["access_token"]
            later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
            limits = {
                "budget_micro": 10**15,
                "expires_at": later,
                "models": ["gpt-4o-mini"],
                "requests_per_minute": 1_000_000,
            }
            bearers = {"session token": token}
            for name, body in (("key, no limits", {}), ("key, every limit", limits)):
                headers = {"Authorization": f"Bearer {token}"}
                async with http.post(f"{url}/api-keys", json=body, headers=headers) as r:
                    bearers[name] = (await r.json())["key"]
            print(f"{db_url.split(':', 1)[0]}: SQL statements per request ({requests} each)")
            for name, bearer in bearers.items():
                await _per_request(http, url, bearer, counter, 3)  # warm the caches
                mean, kinds = await _per_request(http, url, bearer, counter, requests)
                detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
                print(f"  {name:18} {mean:5.1f}   ({detail})")
    finally:
        event.remove(Engine, "before_cursor_execute", counter)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    if args.db == "postgres":
        async with scratch_postgres() as url:
            await run(url, args.requests)
        return
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{tmp}/bench.db", args.requests)


if __name__ == "__main__":
    asyncio.run(main())
