"""Chat requests through the core on Postgres + Redis, against a fake LLM that answers at once.

Prints, at 1, 10 and 50 concurrent: requests/s, and the latency the core adds to each
request (wall time minus the time spent inside the upstream stream) at p50 and p99.

    python -m bench.core [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

from bench.common import DEFAULT_REDIS, drop_redis_prefix, llm_process, percentile, scratch_postgres
from bots import event_loop
from core.models_config import parse_models
from core.money import MICRO
from core.providers.openai_compat import OpenAICompatibleProvider
from core.services import build_core
from core.services.config import CoreConfig, RoleLimits
from core.services.requests import Caller, ChatRequest
from core.types import ChatChunk, ChatMessage, IdentityKey, Role
from storage.db import create_engine
from storage.health import StorageHealth
from storage.kv import open_kv
from storage.kv.login_limits import MemoryLoginLimiter
from storage.migrate import migrate
from storage.uow import sql_uow_factory

MODELS = {
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


class TimedProvider:
    """Wraps the real provider and adds up the time spent inside each upstream stream."""

    def __init__(self, inner: OpenAICompatibleProvider) -> None:
        self.inner = inner
        self.upstream_s: dict[str, float] = {}
        self.current: str = ""

    async def stream_chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        limit_parameter: str = "max_tokens",
    ) -> AsyncGenerator[ChatChunk, None]:
        key = messages[-1].content
        start = time.perf_counter()
        try:
            chunks_of = self.inner.stream_chat(model, messages, max_tokens, limit_parameter)
            async with aclosing(chunks_of) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            self.upstream_s[key] = time.perf_counter() - start

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def added_latency(core, provider: TimedProvider, user: str, text: str) -> float:
    """One chat request's wall time minus the time spent inside the upstream stream."""
    caller = Caller(IdentityKey("bench", "", user))
    start = time.perf_counter()
    request = ChatRequest(caller=caller, chat_id="bench", text=f"{text} {uuid.uuid4().hex[:6]}")
    async with aclosing(core.chat.ask(request)) as events:
        async for _ in events:
            pass
    return time.perf_counter() - start - provider.upstream_s.pop(request.text, 0.0)


async def run_level(
    core, provider: TimedProvider, concurrency: int, total: int
) -> tuple[float, list[float]]:
    added: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker(w: int) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            added.append(await added_latency(core, provider, f"user{w}", f"q {concurrency}-{i}"))

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return total / (time.perf_counter() - started), added


async def run_open_loop(core, provider: TimedProvider, rate: float, total: int) -> list[float]:
    """Requests arriving at a steady ``rate`` per second (not as fast as possible), so the
    latency measured is the core's own, not time spent queueing behind other requests."""
    added: list[float] = []

    async def one(i: int) -> None:
        added.append(await added_latency(core, provider, f"open{i % 50}", f"open {rate}-{i}"))

    tasks = []
    started = time.perf_counter()
    for i in range(total):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return added


async def main(total: int) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    prefix = f"sbbench:{uuid.uuid4().hex[:8]}:"
    with llm_process(reply="Short instant answer for the benchmark.") as base_url:
        async with scratch_postgres() as pg_url:
            await migrate(pg_url)
            engine = create_engine(pg_url, pool_size=20)
            kv = await open_kv(redis_url, prefix=prefix)
            provider = TimedProvider(OpenAICompatibleProvider(base_url, "bench-key"))
            limits = {role: RoleLimits(per_minute=0, concurrent=0) for role in Role}
            config = CoreConfig(role_limits=limits, welcome_credits=10**6 * MICRO)
            core = build_core(
                uow=sql_uow_factory(engine),
                providers={"openai": provider},  # type: ignore[dict-item]
                models=parse_models(MODELS),
                limiter=kv.rate_limiter,
                links=kv.link_codes,
                stops=kv.stop_signals,
                config=config,
                health=StorageHealth(engine, kv),
                login_limiter=MemoryLoginLimiter(),
            )
            try:
                # Warm-up: connection pools, statement caches, the accounts.
                await run_level(core, provider, 10, 100)
                print(
                    f"core benchmark: {total} chat requests per level, Postgres + Redis, fake LLM in its own process"
                )
                print(f"{'concurrent':>10} {'req/s':>8} {'added p50 ms':>13} {'added p99 ms':>13}")
                for level in (1, 10, 50):
                    rate, added = await run_level(
                        core, provider, level, total if level > 1 else total // 4
                    )
                    ms = [a * 1000 for a in added]
                    print(
                        f"{level:>10} {rate:>8.0f} {percentile(ms, 50):>13.1f} {percentile(ms, 99):>13.1f}"
                    )
                print("open loop (steady arrivals, up to 50 in flight):")
                print(f"{'arrivals/s':>10} {'added p50 ms':>13} {'added p99 ms':>13}")
                for arrivals in (25, 50, 100):
                    added = await run_open_loop(core, provider, arrivals, arrivals * 8)
                    ms = [a * 1000 for a in added]
                    print(f"{arrivals:>10} {percentile(ms, 50):>13.1f} {percentile(ms, 99):>13.1f}")
            finally:
                await provider.inner.aclose()
                await kv.aclose()
                await engine.dispose()
                await drop_redis_prefix(redis_url, prefix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    # The loop `python -m bots run …` runs on (uvloop where installed).
    event_loop.run(main(parser.parse_args().requests))
