"""Fifty chat requests on the embedded SQLite default, cancelled at random points, then
the next request: how long it takes, what /health says, how many holds stay open.

    .venv/bin/python -m bench.sqlite_cancel --rounds 5

Before issue 11 the next request waited SQLite's 15 s busy timeout and failed, while
/health said ok."""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from core.errors import StorageUnavailable
from core.services.requests import ChatRequest
from storage.db import create_engine, sqlite_url_for
from storage.health import StorageHealth
from storage.kv import open_kv
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller, collect, core_on


async def one_round(seed: int) -> tuple[float, str, str, int]:
    with tempfile.TemporaryDirectory() as folder:
        url = sqlite_url_for(f"{folder}/bench.db")
        await migrate(url)
        engine = create_engine(url)
        kv = await open_kv(None)
        uow = sql_uow_factory(engine)
        try:
            async with FakeLLM() as llm, core_on(uow, llm.base_url) as core:
                llm.script(reply="a short answer streamed in a few parts", delay=0.005)
                rnd = random.Random(seed)
                tasks = [
                    asyncio.create_task(
                        collect(
                            core.chat.ask(ChatRequest(caller=caller(str(n)), chat_id="c", text="q"))
                        )
                    )
                    for n in range(50)
                ]

                async def cancel_later(task: asyncio.Task[object]) -> None:
                    await asyncio.sleep(rnd.uniform(0, 0.3))
                    task.cancel()

                await asyncio.gather(*(cancel_later(t) for t in tasks))
                kept = await asyncio.gather(*tasks, return_exceptions=True)  # noqa: F841
                start = time.perf_counter()
                try:
                    async with asyncio.timeout(30):
                        await collect(
                            core.chat.ask(ChatRequest(caller=caller("x"), chat_id="c", text="q"))
                        )
                    outcome = "answered"
                except (StorageUnavailable, TimeoutError) as exc:  # the failure is the figure
                    outcome = type(exc).__name__
                took = time.perf_counter() - start
                health = await StorageHealth(engine, kv).database()
                async with uow() as unit:
                    open_holds = len(await unit.ledger.open_holds(datetime.now(UTC) + timedelta(1)))
            return took, outcome, health, open_holds
        finally:
            await kv.aclose()
            await engine.dispose()


async def main(rounds: int) -> None:
    print("round  next request      took    /health  open holds")
    for seed in range(rounds):
        took, outcome, health, holds = await one_round(seed)
        print(f"{seed:5d}  {outcome:<14s} {took:6.2f} s  {health:>8s}  {holds:10d}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
