"""Soak: answer chat questions through the real core for a long time and print the process's
resident memory after every 1,000 answers, to see whether it levels off.

    python -m bench.soak --minutes 60            # Postgres + Redis (TEST_DATABASE_URL / TEST_REDIS_URL)
    python -m bench.soak --minutes 5 --sqlite    # the embedded default

The fake LLM runs in its own process, so only the core's memory is measured. Growth is
reported per 1,000 answers over the second half of the run (the first half includes pools,
caches and allocator warm-up)."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
import uuid
from contextlib import aclosing

from bench.common import DEFAULT_REDIS, drop_redis_prefix, llm_process, scratch_postgres
from core.models_config import parse_models
from core.money import MICRO
from core.providers.openai_compat import OpenAICompatibleProvider
from core.services import build_core
from core.services.config import CoreConfig, RoleLimits
from core.services.requests import Caller, ChatRequest
from core.types import IdentityKey, Role
from storage.db import create_engine
from storage.health import StorageHealth
from storage.kv import open_kv
from storage.kv.login_limits import MemoryLoginLimiter
from storage.migrate import migrate
from storage.uow import sql_uow_factory

MODELS: dict[str, object] = {
    "default_chat_model": "m",
    "models": {
        "m": {
            "kind": "chat",
            "input_credits_per_1k": 1,
            "output_credits_per_1k": 1,
            "max_output_tokens": 64,
        }
    },
}
CONCURRENCY = 10
PEOPLE = 500  # distinct accounts, each with its own conversation


def rss_kb() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


async def soak(url: str, redis_url: str | None, minutes: float) -> list[tuple[int, float, int]]:
    prefix = f"sbsoak:{uuid.uuid4().hex[:8]}:"
    await migrate(url)
    engine = create_engine(url)
    kv = await open_kv(redis_url, prefix=prefix)
    samples: list[tuple[int, float, int]] = []
    with llm_process(reply="A short answer that streams in a few chunks.") as base_url:
        provider = OpenAICompatibleProvider(base_url, "soak-key")
        limits = {role: RoleLimits(per_minute=100_000, concurrent=1_000) for role in Role}
        core = build_core(
            uow=sql_uow_factory(engine),
            providers={"openai": provider},
            models=parse_models(MODELS),
            limiter=kv.rate_limiter,
            links=kv.link_codes,
            stops=kv.stop_signals,
            config=CoreConfig(role_limits=limits, welcome_credits=10_000_000 * MICRO),
            health=StorageHealth(engine, kv),
            login_limiter=MemoryLoginLimiter(),
        )
        done = 0
        started = time.monotonic()
        deadline = started + minutes * 60

        async def worker(w: int) -> None:
            nonlocal done
            i = 0
            while time.monotonic() < deadline:
                person = Caller(IdentityKey("soak", "", f"p{(w * 7919 + i) % PEOPLE}"))
                request = ChatRequest(caller=person, chat_id="soak", text=f"question {w}-{i}")
                async with aclosing(core.chat.ask(request)) as events:
                    async for _ in events:
                        pass
                i += 1
                done += 1
                if done % 1000 == 0:
                    samples.append((done, time.monotonic() - started, rss_kb()))
                    print(
                        f"  {done} answers, {samples[-1][1]:.0f} s, {samples[-1][2] / 1024:.1f} MiB",
                        flush=True,
                    )

        workers = [asyncio.create_task(worker(w)) for w in range(CONCURRENCY)]
        try:
            # A worker still busy two minutes past the deadline is stuck on one answer:
            # show where (earlier long runs did not exit) instead of hanging silently.
            _, stuck = await asyncio.wait(workers, timeout=minutes * 60 + 120)
            if stuck:
                report_stuck(stuck)
            for task in workers:
                if task.done():
                    task.result()  # a worker that failed fails the soak
        finally:
            await provider.aclose()
            await kv.aclose()
            await engine.dispose()
            if redis_url:
                await drop_redis_prefix(redis_url, prefix)
    return samples


def report_stuck(stuck: set[asyncio.Task[None]]) -> None:
    print(f"{len(stuck)} worker(s) stuck past the deadline; where they wait:", flush=True)
    for task in stuck:
        task.print_stack(limit=30)
    for task in asyncio.all_tasks():
        if task not in stuck and task is not asyncio.current_task():
            print(f"-- other task {task.get_name()}", flush=True)
            task.print_stack(limit=10)
    for task in stuck:
        task.cancel()
    raise SystemExit(1)


def report(samples: list[tuple[int, float, int]]) -> None:
    print(f"{'answers':>8} {'seconds':>8} {'RSS MiB':>8}")
    for answers, seconds, kb in samples:
        print(f"{answers:>8} {seconds:>8.0f} {kb / 1024:>8.1f}")
    if len(samples) >= 4:
        half = samples[len(samples) // 2 :]
        (a0, _, k0), (a1, _, k1) = half[0], half[-1]
        per_1000 = (k1 - k0) / max(1, a1 - a0) * 1000
        print(f"growth over the second half: {per_1000:+.1f} KiB per 1,000 answers")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--sqlite", action="store_true", help="the embedded default")
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            report(await soak(f"sqlite+aiosqlite:///{folder}/soak.db", None, args.minutes))
        return
    async with scratch_postgres() as url:
        redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
        report(await soak(url, redis_url, args.minutes))


if __name__ == "__main__":
    asyncio.run(main())
