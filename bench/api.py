"""HTTP API benchmark: 200 concurrent SSE /ask streams, then a burst of non-streamed
/v1/chat/completions, against the fake LLM answering instantly.

    .venv/bin/python -m bench.api [--db sqlite|postgres] [--streams 200] [--burst 3000]

The API runs in its own process (one process's throughput is the figure), the fake LLM in
another, the load generator here. "Added latency" is the API's latency minus the fake
LLM's own for the same request sent to it directly."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import tempfile
import time
from typing import Any

import aiohttp

from bench.common import DEFAULT_REDIS, llm_process, percentile, private_journal, scratch_postgres

USERS = 20


def _serve_api(db_url: str, llm_url: str, redis_url: str | None, ports: Any, stop: Any) -> None:
    from pydantic import SecretStr

    from bots import event_loop
    from bots.api.runner import bound_port, start
    from bots.bootstrap import open_app
    from bots.settings import Settings

    async def main() -> None:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url,
            settlement_journal=private_journal(),
            redis_url=redis_url,
            openai_base_url=llm_url,
            openai_api_key=SecretStr("sk-bench"),
            jwt_secret=SecretStr("bench-secret-" + "x" * 40),
            rate_limits="user:1000000/100000",
            welcome_credits="1000000",
        )
        async with open_app(settings) as app:
            runner = await start(app, "127.0.0.1", 0)
            ports.put(bound_port(runner))
            await asyncio.to_thread(stop.wait)
            await runner.cleanup()

    event_loop.run(main())  # the loop `python -m bots run api` runs on


async def _tokens(http: aiohttp.ClientSession, base: str) -> list[str]:
    tokens = []
    for i in range(USERS):
        creds = {"username": f"bench{i}", "password": "bench password"}
        async with http.post(f"{base}/auth/register", json=creds) as r:
            assert r.status == 201, await r.text()
        async with http.post(f"{base}/auth/login", json=creds) as r:
            tokens.append((await r.json())["access_token"])
    return tokens


async def _sse(http: aiohttp.ClientSession, base: str, token: str) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    start = time.perf_counter()
    first = 0.0
    async with http.post(f"{base}/ask", json={"text": "Hello there"}, headers=headers) as r:
        assert r.status == 200, await r.text()
        async for _ in r.content.iter_any():
            first = first or time.perf_counter() - start
    return first, time.perf_counter() - start


async def _completion(http: aiohttp.ClientSession, url: str, token: str | None) -> float:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}
    start = time.perf_counter()
    async with http.post(url, json=body, headers=headers) as r:
        assert r.status == 200, await r.text()
        await r.read()
    return time.perf_counter() - start


async def _burst(
    http: aiohttp.ClientSession, url: str, tokens: list[str | None], count: int, concurrency: int
) -> tuple[float, list[float]]:
    queue = iter(range(count))
    latencies: list[float] = []

    async def worker(index: int) -> None:
        for n in queue:
            latencies.append(await _completion(http, url, tokens[(index + n) % len(tokens)]))

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for i in range(concurrency):
            group.create_task(worker(i))
    return time.perf_counter() - start, latencies


def _ms(values: list[float], pct: float) -> float:
    return percentile(values, pct) * 1000


async def bench(base: str, llm_url: str, streams: int, burst: int, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tokens = await _tokens(http, base)
        await _burst(http, f"{base}/v1/chat/completions", list(tokens), 200, 20)  # warm up
        start = time.perf_counter()
        results = await asyncio.gather(
            *(_sse(http, base, tokens[i % USERS]) for i in range(streams))
        )
        wall = time.perf_counter() - start
        firsts, totals = [r[0] for r in results], [r[1] for r in results]
        print(
            f"SSE /ask: {streams} concurrent streams in {wall:.2f} s ({streams / wall:.0f} streams/s)"
        )
        print(
            f"  time to first SSE byte p50 {_ms(firsts, 50):.0f} ms, p99 {_ms(firsts, 99):.0f} ms;"
            f" whole stream p50 {_ms(totals, 50):.0f} ms, p99 {_ms(totals, 99):.0f} ms"
        )
        _, direct = await _burst(http, f"{llm_url}/chat/completions", [None], burst, concurrency)
        took, api = await _burst(
            http, f"{base}/v1/chat/completions", list(tokens), burst, concurrency
        )
        print(
            f"/v1/chat/completions (not streamed): {burst} requests, {concurrency} at a time, "
            f"{took:.2f} s -> {burst / took:.0f} requests/s"
        )
        print(
            f"  latency p50 {_ms(api, 50):.1f} ms, p99 {_ms(api, 99):.1f} ms; fake LLM alone "
            f"p50 {_ms(direct, 50):.1f} ms, p99 {_ms(direct, 99):.1f} ms; added p50 "
            f"{_ms(api, 50) - _ms(direct, 50):.1f} ms, p99 {_ms(api, 99) - _ms(direct, 99):.1f} ms"
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS) if args.db == "postgres" else None
    ctx = mp.get_context("spawn")
    with llm_process() as llm_url, tempfile.TemporaryDirectory() as tmp:
        async with scratch_postgres() if args.db == "postgres" else _sqlite(tmp) as db_url:
            ports, stop = ctx.Queue(), ctx.Event()
            proc = ctx.Process(target=_serve_api, args=(db_url, llm_url, redis_url, ports, stop))
            proc.start()
            try:
                base = f"http://127.0.0.1:{ports.get(timeout=60)}"
                print(
                    f"database {args.db}, redis {'on' if redis_url else 'off'}, os.cpu_count()={os.cpu_count()}"
                )
                await bench(base, llm_url, args.streams, args.burst, args.concurrency)
            finally:
                stop.set()
                proc.join(15)
                if proc.is_alive():
                    proc.kill()


class _sqlite:
    def __init__(self, tmp: str) -> None:
        self.url = f"sqlite+aiosqlite:///{tmp}/bench.db"

    async def __aenter__(self) -> str:
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    asyncio.run(main())
