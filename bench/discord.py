"""Discord benchmark: 100 ``/ask`` interactions arriving over 30 s through the fake Discord.

    python -m bench.discord [--interactions 100] [--over 30] [--chars 1500] [--tps 40]
                            [--redis]   # share edit budgets through Redis (TEST_REDIS_URL)

The real discord.py client runs against ``FakeDiscord`` (5 edits per 5 s per message, 50
requests a second, enforced), answers come from the fake LLM in its own process (1,500
characters at 40 tokens a second, a token being 4 characters), on a scratch SQLite file.
Prints the defer latency p50/p99 (interaction dispatched -> callback received), the 429s,
the finals delivered exactly, and the mean interval between visible updates of a message.
Only 127.0.0.1; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time

from bench.common import DEFAULT_REDIS, drop_redis_prefix, llm_process, percentile, private_journal
from bots.bootstrap import open_app
from bots.discord.runner import run
from bots.settings import Settings
from tests.fakes import discord_shapes as shapes
from tests.fakes.discord_server import FakeDiscord
from tests.known_secrets import DISCORD_TOKEN

TOKEN_CHARS = 4


def _answer(chars: int) -> str:
    words = (f"word{i}" for i in range(chars))
    return " ".join(words)[:chars].rstrip()


async def _arrivals(
    fake: FakeDiscord, count: int, over: float, guild: int, channel: int
) -> list[int]:
    ids: list[int] = []
    start = time.monotonic()
    for index in range(count):
        await asyncio.sleep(max(0.0, start + index * over / count - time.monotonic()))
        user = shapes.user(shapes.snowflake(), f"user{index}")
        payload = fake.slash(
            "ask", {"prompt": f"question {index}"}, user=user, channel_id=channel, guild_id=guild
        )
        ids.append(await fake.dispatch_interaction(payload))
    return ids


def _final(fake: FakeDiscord, interaction: int, answer: str) -> bool:
    messages = fake.answer(interaction)
    return (
        bool(messages)
        and "".join(m["content"] for m in messages) == answer
        and not any(m["components"] for m in messages)
    )


async def _wait_finals(fake: FakeDiscord, ids: list[int], answer: str, within: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while not all(_final(fake, i, answer) for i in ids):  # noqa: ASYNC110 - polling the fake's record
                await asyncio.sleep(0.2)


def _report(fake: FakeDiscord, ids: list[int], answer: str, elapsed: float) -> None:
    defers = [
        (s.acked_at - s.created) * 1000
        for i in ids
        if (s := fake.interactions[i]).acked_at is not None
    ]
    intervals: list[float] = []
    for interaction in ids:
        ok = [c.time for c in fake.calls_to("edit_original", interaction) if c.status == 200]
        intervals += [b - a for a, b in zip(ok, ok[1:], strict=False)]
    finals = sum(_final(fake, i, answer) for i in ids)
    edits = sum(1 for c in fake.calls if c.route in ("edit_original", "webhook_edit"))
    print(f"interactions            {len(ids)} over {elapsed:.1f} s")
    print(f"defer latency p50/p99   {percentile(defers, 50):.1f} / {percentile(defers, 99):.1f} ms")
    print(f"429s                    {fake.too_many_requests}")
    print(f"finals delivered        {finals}/{len(ids)}")
    print(f"edits                   {edits} ({edits / len(ids):.1f} per answer)")
    mean = statistics.fmean(intervals) if intervals else float("nan")
    print(
        f"mean update interval    {mean:.2f} s (min {min(intervals, default=float('nan')):.2f} s)"
    )


async def bench(args: argparse.Namespace, llm_url: str, answer: str) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS) if args.redis else None
    with tempfile.TemporaryDirectory() as scratch:
        async with FakeDiscord() as fake:
            guild, channel = fake.add_guild()
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                database_url=f"sqlite+aiosqlite:///{scratch}/bench.db",
                settlement_journal=private_journal(),
                redis_url=redis_url,
                openai_base_url=llm_url,
                discord_bot_token=DISCORD_TOKEN,
                discord_api_url=fake.base_url,
                discord_gateway_url=fake.gateway_url,
                discord_guild_ids=str(guild),
                rate_limits="guest:1000/100,user:1000/100,admin:1000/100",
                welcome_credits="1000",
            )
            async with open_app(settings) as app:
                task = asyncio.create_task(run(app))
                try:
                    await fake.gateway.wait_ready()
                    start = time.monotonic()
                    ids = await _arrivals(fake, args.interactions, args.over, guild, channel)
                    await _wait_finals(fake, ids, answer, args.timeout)
                    _report(fake, ids, answer, time.monotonic() - start)
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    if redis_url:  # only this run's edit budgets
                        await drop_redis_prefix(redis_url, f"sb:pace:dc:{fake.app_id}:")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100)
    parser.add_argument("--over", type=float, default=30.0)
    parser.add_argument("--chars", type=int, default=1500)
    parser.add_argument("--tps", type=float, default=40.0)
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    answer = _answer(args.chars)
    with llm_process(reply=answer, chunk_chars=TOKEN_CHARS, delay=1 / args.tps) as llm_url:
        asyncio.run(bench(args, llm_url, answer))


if __name__ == "__main__":
    main()
