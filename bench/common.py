"""Helpers the benchmarks share: a fake LLM in its own process, percentiles, scratch
Postgres databases and Redis prefixes that are removed afterwards."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _serve_llm(port_queue: mp.Queue, stop_event: mp.Event, script: dict) -> None:  # type: ignore[type-arg]
    from tests.fakes.llm_server import FakeLLM

    async def main() -> None:
        async with FakeLLM(record_requests=False) as llm:
            llm.script(**script)
            port_queue.put(llm.port)
            await asyncio.to_thread(stop_event.wait)

    asyncio.run(main())


@contextmanager
def llm_process(**script: object) -> Iterator[str]:
    """The fake LLM in a separate process, so its CPU is not counted as the core's."""
    ctx = mp.get_context("spawn")
    ports: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    stop = ctx.Event()
    proc = ctx.Process(target=_serve_llm, args=(ports, stop, script), daemon=True)
    proc.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=30)}/v1"
    finally:
        stop.set()
        proc.join(5)
        if proc.is_alive():
            proc.kill()


@asynccontextmanager
async def scratch_postgres() -> AsyncIterator[str]:
    import asyncpg

    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG).replace(
        "postgresql+asyncpg://", "postgresql://"
    )
    name = f"sb_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield base.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    finally:
        admin = await asyncpg.connect(base)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def drop_redis_prefix(url: str, prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def private_journal() -> Path:
    """A settlement journal for this run alone: the default ./data/settlements.jsonl would
    replay one run's journaled settlements (the pool ran dry under load) into the next
    run's scratch database, where their accounts do not exist."""
    return Path(tempfile.mkdtemp(prefix="sb-bench-journal-")) / "settlements.jsonl"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]
