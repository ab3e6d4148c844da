"""What the chaos suite runs its scenarios in: the real bot as a child process
(``python -m bots run ...`` of this checkout or another one), its logs in a file, a fresh
Postgres database and Redis prefix, TCP proxies that can cut either, and the figures read
back from the database and the fake platform afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.common import DEFAULT_REDIS, drop_redis_prefix, scratch_postgres
from tests.fakes.llm_server import FakeLLM
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram_server import FakeTelegramServer
from tests.known_secrets import JWT_SECRET, TELEGRAM_TOKEN, TEST_API_KEY

ROOT = Path(__file__).resolve().parents[1]
BOT_ID = int(TELEGRAM_TOKEN.split(":")[0])
# Short leases so a dead worker's holds are due within seconds, not 30 s (checkouts that
# have no leases ignore these).
LEASE = {"LEASE_INTERVAL": "1", "LEASE_TTL": "4"}
LEASE_TTL_S = 4.0
LEASE_MARGIN_S = 3.0
NORMAL_S = 10.0  # a normal question must be answered within this once the fault is over
TRACEBACK = "Traceback (most recent call last)"
UNRETRIEVED = "Task exception was never retrieved"


# `python -m bots`, plus a SIGUSR1 handler that prints every asyncio task's stack to the
# log: when a request hangs, the suite asks for it, so the report can say where it waits.
LAUNCHER = """
import asyncio, runpy, signal, sys

def dump_tasks(*_):
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    tasks = asyncio.all_tasks(loop)
    print(f"=== chaos: {len(tasks)} asyncio tasks", file=sys.stderr)
    for task in tasks:
        task.print_stack(limit=40, file=sys.stderr)
    sys.stderr.flush()

signal.signal(signal.SIGUSR1, dump_tasks)
sys.argv = ["bots", *sys.argv[1:]]
runpy.run_module("bots", run_name="__main__", alter_sys=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until(check: Callable[[], Any], within: float) -> bool:
    """True once ``check()`` holds, False if it did not within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


@dataclass
class Bot:
    """One bot process; its stderr (the logs) goes to a file that outlives it."""

    process: asyncio.subprocess.Process
    log: Path

    async def dump_tasks(self) -> None:
        """Ask the bot to print every asyncio task's stack to its log (see LAUNCHER)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(1.0)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    async def stop(self, grace_s: float = 30.0) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace_s)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@dataclass
class World:
    """Everything one scenario runs against; figures are read from here at the end."""

    checkout: Path
    folder: Path
    database_url: str  # the fresh database, direct
    redis_url: str
    redis_prefix: str
    llm: FakeLLM
    telegram: FakeTelegramServer
    proxies: dict[str, TcpProxy] = field(default_factory=dict)
    bots: list[Bot] = field(default_factory=list)

    # ---- the bot process -----------------------------------------------------------

    def bot_env(self, *, through_proxy: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith(("_TOKEN", "DATABASE_URL", "REDIS_URL", "_SECRET", "API_KEY"))
        }
        database = self.database_url
        redis = self.redis_url
        if "postgres" in through_proxy:
            database = _via(database, self.proxies["postgres"].port)
        if "redis" in through_proxy:
            redis = _via(redis, self.proxies["redis"].port)
        env.update(
            PYTHONPATH=str(self.checkout),
            DATABASE_URL=database,
            REDIS_URL=redis,
            REDIS_PREFIX=self.redis_prefix,
            OPENAI_BASE_URL=self.llm.base_url,
            OPENAI_API_KEY=TEST_API_KEY,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_API_URL=self.telegram.base_url,
            TELEGRAM_DRAFTS="false",  # one message per answer: what a person saw is countable
            RATE_LIMITS="guest:10000/1000,user:10000/1000,admin:10000/1000",
            WELCOME_CREDITS="100",
            JWT_SECRET=JWT_SECRET,
            API_SCRYPT_N=str(2**14),
            SETTLEMENT_JOURNAL=str(self.folder / "settlements.jsonl"),
            LOG_LEVEL="INFO",
            **LEASE,
            **extra,
        )
        return env

    async def start_bot(self, adapters: list[str], env: dict[str, str]) -> Bot:
        python = self.checkout / ".venv" / "bin" / "python"
        log = self.folder / f"bot{len(self.bots)}.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                str(python) if python.exists() else sys.executable,
                "-c",
                LAUNCHER,
                "run",
                *adapters,
                cwd=self.folder,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )
        bot = Bot(process, log)
        self.bots.append(bot)
        return bot

    async def start_polling_bot(self, env: dict[str, str]) -> Bot:
        polls = len(self.telegram.calls_for("getUpdates"))
        bot = await self.start_bot(["telegram"], env)
        if (
            not await until(
                lambda: (
                    len(self.telegram.calls_for("getUpdates")) > polls
                    or bot.process.returncode is not None
                ),
                60,
            )
            or bot.process.returncode is not None
        ):
            raise RuntimeError(f"the bot did not start polling; see {bot.log}")
        return bot

    def tracebacks(self) -> int:
        """Tracebacks in the bots' logs, and tasks that died with nobody to see it."""
        found = 0
        for bot in self.bots:
            lines = bot.log.read_text(errors="replace").splitlines()
            for i, line in enumerate(lines):
                if TRACEBACK in line:
                    found += 1
                elif UNRETRIEVED in line and not any(TRACEBACK in n for n in lines[i + 1 : i + 4]):
                    found += 1  # logged without its traceback: counted all the same
        return found

    def log_tail(self, chars: int = 1500) -> str:
        return "\n".join(bot.log.read_text(errors="replace")[-chars:] for bot in self.bots)

    # ---- the database, read directly (not through a proxy) ---------------------------

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url.replace("+asyncpg", ""))
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def open_holds(self) -> int:
        rows = await self.sql(
            "SELECT count(*) FROM ledger h WHERE h.kind = 'hold' AND NOT EXISTS"
            " (SELECT 1 FROM ledger s WHERE s.request_id = h.request_id AND s.kind = 'settle')"
        )
        return int(rows[0][0])

    async def open_hold_owners(self) -> list[str]:
        """Who holds the open holds (platform:user) and how old each is, for the notes."""
        rows = await self.sql(
            "SELECT coalesce(i.platform || ':' || i.user_id, '#' || h.account_id::text) AS who,"
            " extract(epoch FROM now() - h.created_at) AS age FROM ledger h"
            " LEFT JOIN identities i ON i.account_id = h.account_id"
            " WHERE h.kind = 'hold' AND NOT EXISTS (SELECT 1 FROM ledger s"
            " WHERE s.request_id = h.request_id AND s.kind = 'settle') ORDER BY h.id"
        )
        return [f"{row['who']} ({float(row['age']):.0f} s)" for row in rows]

    async def ledger_matches_balances(self) -> bool:
        rows = await self.sql(
            "SELECT count(*) FROM accounts a WHERE a.balance <>"
            " coalesce((SELECT sum(amount) FROM ledger l WHERE l.account_id = a.id), 0)"
        )
        return int(rows[0][0]) == 0

    async def charges(self, platform: str) -> dict[str, list[int | None]]:
        """Per person (platform user id): each request's charge, None while it is open."""
        rows = await self.sql(
            "SELECT i.user_id, -(h.amount + s.amount) AS charge FROM ledger h"
            " JOIN identities i ON i.account_id = h.account_id AND i.platform = $1"
            " LEFT JOIN ledger s ON s.request_id = h.request_id AND s.kind = 'settle'"
            " WHERE h.kind = 'hold' ORDER BY h.id",
            platform,
        )
        found: dict[str, list[int | None]] = {}
        for row in rows:
            found.setdefault(row["user_id"], []).append(row["charge"])
        return found

    async def charges_by_account(self) -> dict[int, list[int | None]]:
        rows = await self.sql(
            "SELECT h.account_id, -(h.amount + s.amount) AS charge FROM ledger h"
            " LEFT JOIN ledger s ON s.request_id = h.request_id AND s.kind = 'settle'"
            " WHERE h.kind = 'hold' ORDER BY h.id"
        )
        found: dict[int, list[int | None]] = {}
        for row in rows:
            found.setdefault(int(row["account_id"]), []).append(row["charge"])
        return found


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    return url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{port}", 1)


async def _proxy_for(url: str, default_port: int) -> TcpProxy:
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or default_port)
    await proxy.start()
    return proxy


@asynccontextmanager
async def world(
    checkout: Path, folder: Path, *, proxies: tuple[str, ...] = ()
) -> AsyncIterator[World]:
    """A fresh database and Redis prefix, the fakes and the proxies asked for; every bot
    started in it is killed and every proxy stopped on the way out."""
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    prefix = f"sbchaos:{uuid.uuid4().hex[:8]}:"
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(scratch_postgres())
        stack.push_async_callback(drop_redis_prefix, redis_url, prefix)
        llm = await stack.enter_async_context(FakeLLM(record_requests=False))
        telegram = await stack.enter_async_context(FakeTelegramServer())
        here = World(checkout, folder, database_url, redis_url, prefix, llm, telegram)
        if "postgres" in proxies:
            here.proxies["postgres"] = await _proxy_for(database_url, 5432)
        if "redis" in proxies:
            here.proxies["redis"] = await _proxy_for(redis_url, 6379)

        async def tear_down() -> None:
            for bot in here.bots:
                bot.kill()
                with suppress(ProcessLookupError):
                    await bot.process.wait()
            for proxy in here.proxies.values():
                with suppress(AssertionError, RuntimeError):
                    await proxy.stop()

        stack.push_async_callback(tear_down)
        yield here
