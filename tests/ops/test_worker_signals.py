"""A real worker process (`python -m bots run telegram`) stopped by SIGTERM while ten answers
stream, and one killed by SIGKILL: no reservation stays open, no answer is left half-written."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.i18n import Translator
from core.services.sweep import ReservationSweeper
from core.types import LedgerKind, Outcome
from storage.db import create_engine
from storage.tables import HoldOwnerRow
from storage.uow import sql_uow_factory
from tests.e2e.telegram_harness import BOT_ID, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.harness import caller
from tests.known_secrets import TELEGRAM_TOKEN, TEST_API_KEY

# Worker processes, a browser or a fuzzer: slow; `pytest -m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
USERS = range(501, 511)
CUT = Outcome.CUT
NOTHING = Translator(None)("error.nothing_to_retry")
RETRY_ENTITIES = [{"type": "bot_command", "offset": 0, "length": 6}]


async def start_worker(
    tmp_path: Path, llm: FakeLLM, server: FakeTelegramServer, **extra: str
) -> asyncio.subprocess.Process:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_TOKEN", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/worker.db",
        OPENAI_BASE_URL=llm.base_url,
        OPENAI_API_KEY=TEST_API_KEY,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_API_URL=server.base_url,
        TELEGRAM_DRAFTS="false",
        RATE_LIMITS="guest:1000/50,user:1000/50,admin:1000/50",
        **extra,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "run",
        "telegram",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    await until(lambda: server.calls_for("getUpdates"), within=60, what="the worker polling")
    return process


def ask_everyone(server: FakeTelegramServer) -> list[dict[str, object]]:
    updates: list[dict[str, object]] = []
    for user in USERS:
        update: dict[str, object] = {
            "message": server.user_message(user, f"tell me a long story {user}")
        }
        update["update_id"] = server.push_update(update)
        updates.append(update)
    return updates


def bot_texts(server: FakeTelegramServer, chat_id: int) -> list[str]:
    return [
        m["text"]
        for (chat, _), m in sorted(server.messages.items())
        if chat == chat_id and "text" in m and m["from"].get("id") == BOT_ID
    ]


def streaming_everywhere(server: FakeTelegramServer) -> bool:
    return all(bot_texts(server, user) and len(bot_texts(server, user)[-1]) > 20 for user in USERS)


async def open_holds(tmp_path: Path) -> int:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/worker.db")
    try:
        async with sql_uow_factory(engine)() as uow:
            return len(await uow.ledger.open_holds(datetime.now(UTC) + timedelta(hours=1)))
    finally:
        await engine.dispose()


async def produced_recorded(tmp_path: Path) -> int:
    """How many holds have a produced-so-far estimate written by the lease heartbeat."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/worker.db")
    try:
        async with engine.connect() as connection:
            query = select(func.count()).select_from(HoldOwnerRow).where(HoldOwnerRow.produced > 0)
            return int((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def test_sigterm_during_ten_streams_settles_everything(tmp_path):
    async with FakeLLM() as llm, FakeTelegramServer() as server:
        llm.script(reply=" ".join(f"word{i}" for i in range(400)), delay=0.05)
        worker = await start_worker(tmp_path, llm, server)
        try:
            ask_everyone(server)
            await until(lambda: streaming_everywhere(server), within=60, what="ten streams")
            worker.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(worker.communicate(), timeout=45)
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
        assert worker.returncode == 0, stderr.decode()[-2000:]
        for user in USERS:
            final = bot_texts(server, user)[-1]
            assert final.rstrip().endswith("(stopped)"), final[-200:]
        assert await open_holds(tmp_path) == 0
        assert TELEGRAM_TOKEN.encode() not in stderr


async def test_sigkill_leaves_holds_that_the_sweep_settles(tmp_path):
    async with FakeLLM() as llm, FakeTelegramServer() as server:
        llm.script(reply=" ".join(f"word{i}" for i in range(400)), delay=0.05)
        worker = await start_worker(tmp_path, llm, server)
        try:
            ask_everyone(server)
            await until(lambda: streaming_everywhere(server), within=60, what="ten streams")
        finally:
            worker.kill()
            await worker.wait()
        assert await open_holds(tmp_path) == 10  # what a killed process leaves behind
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/worker.db")
        try:
            uow = sql_uow_factory(engine)
            sweeper = ReservationSweeper(uow, older_than=timedelta(seconds=0))
            assert await sweeper.sweep_once() == 10
            assert await sweeper.sweep_once() == 0
            async with uow() as tx:
                for user in USERS:
                    account = await tx.accounts.find_by_identity(caller(str(user)).identity)
                    assert account.balance == await tx.ledger.sum_for(account.id) == 100_000_000
        finally:
            await engine.dispose()
        assert await open_holds(tmp_path) == 0


# A short lease, so that the test sees the dead worker's lease run out in seconds.
SHORT_LEASE = {"LEASE_INTERVAL": "0.5", "LEASE_TTL": "2"}


def shared_redis() -> dict[str, str]:
    """With TEST_REDIS_URL both workers share Redis, so the successor's update dedupe
    remembers the dead worker's claims (a redelivery must get through it)."""
    url = os.environ.get("TEST_REDIS_URL")
    return {"REDIS_URL": url, "REDIS_PREFIX": f"lease{uuid.uuid4().hex[:8]}:"} if url else {}


async def test_sigkill_holds_are_settled_within_the_lease_and_a_redelivery_is_answered_once(
    tmp_path,
):
    async with FakeLLM() as llm, FakeTelegramServer() as server:
        llm.script(reply=" ".join(f"word{i}" for i in range(400)), delay=0.05)
        shared = {**SHORT_LEASE, **shared_redis()}
        worker = await start_worker(tmp_path, llm, server, **shared)
        try:
            updates = ask_everyone(server)
            await until(lambda: streaming_everywhere(server), within=60, what="ten streams")
            # The heartbeat has written what each answer produced (no chunk writes it).
            for _ in range(300):
                if await produced_recorded(tmp_path) == 10:
                    break
                await asyncio.sleep(0.1)
            assert await produced_recorded(tmp_path) == 10
        finally:
            worker.kill()
            await worker.wait()
        assert await open_holds(tmp_path) == 10
        llm.script(reply="the answer at last")
        polls = len(server.calls_for("getUpdates"))
        successor = await start_worker(tmp_path, llm, server, **shared)
        try:
            await until(lambda: len(server.calls_for("getUpdates")) > polls, within=60)
            # No SWEEP_AFTER wait: the successor's heartbeat refunds the dead worker's holds
            # once its lease (2 s here, 30 s by default) has run out.
            for _ in range(200):
                if await open_holds(tmp_path) == 0:
                    break
                await asyncio.sleep(0.1)
            assert await open_holds(tmp_path) == 0
            # Each person whose answer was cut is told so, once.
            await until(
                lambda: all(any("interrupted" in t for t in bot_texts(server, u)) for u in USERS),
                within=30,
                what="the notices",
            )

            first = USERS[0]
            server.push_update(updates[0])  # Telegram redelivers the unanswered update
            await until(
                lambda: "the answer at last" in bot_texts(server, first), within=60, what="answer"
            )
            server.push_update(updates[0])  # and once more: already answered, refused

            # /retry: the redelivery answered the first person's question, so their /retry
            # gives a new answer to it (no interrupted question is left); the third
            # person's interrupted question is asked again, once; a second /retry of theirs,
            # after that answer, regenerates it.
            def answers(user: int) -> int:
                return bot_texts(server, user).count("the answer at last")

            for user in (first, USERS[2]):
                retry = server.user_message(user, "/retry", entities=RETRY_ENTITIES)
                server.push_update({"message": retry})
            await until(
                lambda: answers(first) == 2 and answers(USERS[2]) == 1,
                within=60,
                what="the retried answers",
            )
            again = server.user_message(USERS[2], "/retry", entities=RETRY_ENTITIES)
            server.push_update({"message": again})
            await until(lambda: answers(USERS[2]) == 2, within=60, what="the regenerated answer")
            # A later update, polled after the second redelivery: once it is answered, the
            # redelivery before it has been seen.
            server.push_update({"message": server.user_message(USERS[1], "and me?")})
            await until(
                lambda: "the answer at last" in bot_texts(server, USERS[1]),
                within=60,
                what="the later answer",
            )
        finally:
            successor.send_signal(signal.SIGTERM)
            await asyncio.wait_for(successor.communicate(), timeout=45)
        assert bot_texts(server, first).count("the answer at last") == 2
        assert bot_texts(server, USERS[2]).count("the answer at last") == 2
        assert not any(NOTHING in t for u in USERS for t in bot_texts(server, u))
        for user in USERS:
            told = [t for t in bot_texts(server, user) if "was interrupted" in t]
            assert len(told) == 1 and "Charged" in told[0] and "/retry" in told[0]
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/worker.db")
        try:
            async with sql_uow_factory(engine)() as tx:
                for user in USERS:
                    account = await tx.accounts.find_by_identity(caller(str(user)).identity)
                    assert account.balance == await tx.ledger.sum_for(account.id)
                    cut = [u for u in await tx.usage.recent(account.id, 5) if u.outcome is CUT]
                    entries = await tx.ledger.entries(account.id, 20)
                    hold = -next(
                        e.amount
                        for e in entries
                        if e.request_id == cut[0].request_id and e.kind is LedgerKind.HOLD
                    )
                    # Charged for what was produced before the kill: not free, not the hold.
                    assert len(cut) == 1 and 0 < cut[0].credits < hold, (cut, hold)
        finally:
            await engine.dispose()
