"""Two real API worker processes (`python -m bots run api`) on one Postgres and one Redis,
with CLOCK_FILE moved across midnight and a restart: each period's allowance is applied
exactly once per account, and days missed while every worker was stopped count once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from core.money import MICRO
from core.types import LedgerKind
from storage.db import create_engine
from storage.migrate import migrate
from storage.tables import AccountRow, LedgerRow
from tests.fakes.llm_server import FakeLLM
from tests.known_secrets import JWT_SECRET, TEST_API_KEY

# Worker processes: slow; `pytest -m "not slow"` leaves them out.
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
PEOPLE = ("ann", "bob", "cid")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Worker:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.env = {**env, "API_PORT": str(self.port)}
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bots", "run", "api",
            cwd=self.cwd, env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(600):
            try:
                async with http.get(f"{self.url}/health") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            assert self.process.returncode is None, "the worker exited at start"
            await asyncio.sleep(0.1)
        raise AssertionError("the worker never answered /health")

    async def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 60)


def worker_env(tmp_path: Path, pg_url: str, redis_url: str, prefix: str, llm: FakeLLM) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_TOKEN", "DATABASE_URL", "REDIS_URL", "_SECRET"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        REDIS_PREFIX=prefix,
        OPENAI_BASE_URL=llm.base_url,
        OPENAI_API_KEY=TEST_API_KEY,
        JWT_SECRET=JWT_SECRET,
        API_HOST="127.0.0.1",
        API_SCRYPT_N=str(2**14),
        RATE_LIMITS="guest:10000/1000,user:10000/1000,admin:10000/1000",
        WELCOME_CREDITS="0",
        ALLOWANCES="user:daily:20",
        ALLOWANCE_MODE="add",  # add, so that a second application would show in the balance
        CLOCK_FILE=str(tmp_path / "clock"),
        SETTLEMENT_JOURNAL=str(tmp_path / "journal"),
    )
    return env


async def usage_everywhere(
    http: aiohttp.ClientSession, workers: list[Worker], tokens: dict[str, str]
) -> None:
    """Each person asks /users/me/usage on every worker, five times, all at once."""

    async def one(url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{url}/users/me/usage", headers=headers) as answer:
            assert answer.status == 200, await answer.text()

    await asyncio.gather(
        *(one(w.url, t) for w in workers for t in tokens.values() for _ in range(5))
    )


async def allowance_rows(pg_url: str) -> tuple[dict[int, list[str]], dict[int, int]]:
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(LedgerRow.account_id, LedgerRow.request_id)
                .where(LedgerRow.kind == LedgerKind.ALLOWANCE.value)
                .order_by(LedgerRow.id)
            )
            found: dict[int, list[str]] = {}
            for account_id, request_id in rows:
                found.setdefault(account_id, []).append(request_id.rsplit(":", 1)[-1])
            balances = await connection.execute(select(AccountRow.id, AccountRow.balance))
            return found, {account_id: balance for account_id, balance in balances}
    finally:
        await engine.dispose()


async def test_two_workers_and_a_restart_apply_each_period_once(
    tmp_path, pg_url, redis_url, redis_prefix
):
    await migrate(pg_url)
    clock = tmp_path / "clock"
    clock.write_text("2026-12-04T23:59:30+00:00")
    async with FakeLLM(api_key=TEST_API_KEY) as llm, aiohttp.ClientSession() as http:
        env = worker_env(tmp_path, pg_url, redis_url, redis_prefix, llm)
        workers = [Worker(env, tmp_path), Worker(env, tmp_path)]
        try:
            await asyncio.gather(*(w.start(http) for w in workers))
            tokens: dict[str, str] = {}
            for n, name in enumerate(PEOPLE):
                url = workers[n % 2].url
                body = {"username": name, "password": PASSWORD}
                async with http.post(f"{url}/auth/register", json=body) as answer:
                    assert answer.status == 201, await answer.text()
                async with http.post(f"{workers[1 - n % 2].url}/auth/login", json=body) as answer:
                    tokens[name] = (await answer.json())["access_token"]
            await usage_everywhere(http, workers, tokens)
            found, balances = await allowance_rows(pg_url)
            assert sorted(found.values()) == [["2026-12-04"]] * 3
            assert set(balances.values()) == {20 * MICRO}

            # Across midnight, one worker restarted meanwhile: the 5th is applied once.
            await workers[1].stop()
            clock.write_text("2026-12-05T00:00:10+00:00")
            await workers[1].start(http)
            await usage_everywhere(http, workers, tokens)
            found, balances = await allowance_rows(pg_url)
            assert sorted(found.values()) == [["2026-12-04", "2026-12-05"]] * 3
            assert set(balances.values()) == {40 * MICRO}

            # Every worker stopped for three days: one allowance, not three.
            await asyncio.gather(*(w.stop() for w in workers))
            clock.write_text("2026-12-08T08:00:00+00:00")
            await asyncio.gather(*(w.start(http) for w in workers))
            await usage_everywhere(http, workers, tokens)
            found, balances = await allowance_rows(pg_url)
            assert sorted(found.values()) == [["2026-12-04", "2026-12-05", "2026-12-08"]] * 3
            assert set(balances.values()) == {60 * MICRO}
        finally:
            for worker in workers:
                if worker.process is not None and worker.process.returncode is None:
                    worker.process.kill()
                    await worker.process.wait()
