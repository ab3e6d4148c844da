"""Slack benchmark: 50 threads in one workspace ask within 10 s; answers of 1,500
characters at 40 tokens/s; native streaming and the chat.update fallback.

    .venv/bin/python -m bench.slack [--mode both|native|update] [--threads 50] [--embedded]

Everything runs on 127.0.0.1: the real bolt app over HTTP, the fake Slack Web API (Tier 3:
50 chat.update a minute per workspace, answered 429 beyond), the fake LLM, and Postgres +
Redis (scratch database, own key prefix) unless ``--embedded`` (SQLite, in-process pacing).
Prints ack latency p99 (goal < 300 ms), ``ratelimited`` answers (goal 0), finals complete
(goal all) and the mean interval between visible updates of an answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from bench.common import DEFAULT_REDIS, drop_redis_prefix, percentile, scratch_postgres
from tests.e2e.slack_harness import CHANNEL, TEAM, slack_stack

REPLY = " ".join(f"token{i:03d}" for i in range(170))[:1500]
VISIBLE = {"chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream"}


@contextlib.asynccontextmanager
async def database(embedded: bool) -> AsyncIterator[tuple[str, str | None]]:
    if embedded:
        yield f"sqlite+aiosqlite:////tmp/bench-slack-{uuid.uuid4().hex[:8]}.db", None
        return
    async with scratch_postgres() as url:
        yield url, DEFAULT_REDIS


async def one_mode(native: bool, threads: int, embedded: bool) -> dict[str, Any]:
    async with database(embedded) as (url, redis_url):
        settings: dict[str, Any] = {
            "slack_native_streaming": native,
            "slack_edit_interval": 1.0,
            "slack_updates_per_minute": 45.0,
            "slack_stream_calls_per_minute": 300.0,
        }
        if redis_url:
            settings["redis_url"] = redis_url
        fake = {"tier3_limit": 50, "tier3_window_s": 60.0}
        try:
            async with slack_stack(url, fake=fake, **settings) as s:
                s.llm.record_requests = False
                s.llm.script(reply=REPLY, chunk_chars=4, delay=1 / 40)
                return await _run(s, threads)
        finally:
            if redis_url:
                await drop_redis_prefix(redis_url, "sb:pace:slack")
                await drop_redis_prefix(redis_url, "sb:flag:slack:")


async def _run(s: Any, threads: int) -> dict[str, Any]:
    users = [f"UB{i:04d}" for i in range(threads)]
    for user in users:
        s.slack.add_user(user, user.lower())
    started = time.monotonic()
    acks: list[float] = []
    roots: list[str] = []

    async def ask(user: str) -> None:
        await asyncio.sleep(random.uniform(0, 10))
        event = await s.mention(f"question from {user}", user=user)
        roots.append(event["ts"])

    # Ack latency: the poster times each signed POST until bolt's 200.
    original = s.poster._post

    async def timed(*args: Any, **kw: Any) -> Any:
        answer = await original(*args, **kw)
        acks.append(answer.elapsed_s)
        return answer

    s.poster._post = timed
    await asyncio.gather(*(ask(user) for user in users))
    for _ in range(1200):  # at most 10 minutes
        if _complete(s, roots) >= threads:
            break
        await asyncio.sleep(0.5)
    elapsed = time.monotonic() - started
    return {
        "ack_p99_ms": percentile(acks, 99) * 1000,
        "ack_max_ms": max(acks) * 1000,
        "ratelimited": s.slack.ratelimited,
        "finals": f"{_complete(s, roots)}/{threads}",
        "update_interval_s": _mean_interval(s),
        "chat_update_calls": len(s.slack.calls_to("chat.update")),
        "stream_calls": sum(
            len(s.slack.calls_to(m))
            for m in ("chat.startStream", "chat.appendStream", "chat.stopStream")
        ),
        "last_final_s": elapsed,
    }


def _complete(s: Any, roots: list[str]) -> int:
    done = 0
    expected = REPLY.split()
    for root in roots:
        messages = s.slack.bot_messages(CHANNEL, root)
        if messages and not any(m.streaming or m.blocks for m in messages):
            done += " ".join(m.text for m in messages).split() == expected
    return done


def _mean_interval(s: Any) -> float:
    """Per answer message: time between successive calls that changed what people see."""
    times: dict[str, list[float]] = {}
    for call in s.slack.calls:
        if call.method in VISIBLE and call.error is None:
            root = call.args.get("thread_ts")
            if root is None:
                message = s.slack.messages.get((call.args.get("channel"), call.args.get("ts")))
                root = message.thread_ts if message else None
            times.setdefault(str(root), []).append(call.at)
    gaps = [b - a for series in times.values() for a, b in zip(series, series[1:], strict=False)]
    return statistics.fmean(gaps) if gaps else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["both", "native", "update"], default="both")
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--embedded", action="store_true", help="SQLite, no Redis")
    args = parser.parse_args()
    modes = {"both": [True, False], "native": [True], "update": [False]}[args.mode]
    print(f"slack bench: {args.threads} threads in workspace {TEAM}, 1,500 chars at 40 tokens/s")
    for native in modes:
        result = await one_mode(native, args.threads, args.embedded)
        name = "native stream" if native else "chat.update  "
        print(
            f"{name}: ack p99 {result['ack_p99_ms']:.0f} ms (max {result['ack_max_ms']:.0f}), "
            f"ratelimited {result['ratelimited']}, finals complete {result['finals']}, "
            f"mean update interval {result['update_interval_s']:.2f} s, "
            f"chat.update calls {result['chat_update_calls']}, stream calls {result['stream_calls']}, "
            f"all done after {result['last_final_s']:.0f} s"
        )


if __name__ == "__main__":
    asyncio.run(main())
