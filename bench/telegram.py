"""The Telegram adapter under load, through the limit-enforcing fake Bot API server (in its
own process) and the fake LLM (in its own process) streaming 1,500-character answers at
40 tokens/s. The bot runs in webhook mode on Postgres + Redis; updates are posted to its
webhook the way Telegram would.

- steady: 400 conversations (360 private, 40 groups) arriving at random over 60 s;
- burst: 100 private chats asking within the same second.

Prints for each: 429s received, finals delivered and complete, LLM first token -> first
visible text p50/p99, mean seconds between visible updates per chat, time until every
final is delivered, CPU seconds per answer (this process: bot and driver).

    python -m bench.telegram [--scale 1.0] [--only steady|burst]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import socket
import statistics
import time
from typing import Any

import aiohttp

import bots.streaming.answer as replies
from bench.common import (
    DEFAULT_REDIS,
    drop_redis_prefix,
    llm_process,
    percentile,
    private_journal,
    scratch_postgres,
)
from bots.bootstrap import open_app
from bots.settings import Settings
from bots.telegram.runner import run

TOKEN = "987654321:BENCH-fake-telegram-token"
BOT_ID = 987654321
SECRET = "bench-webhook-secret"
ANSWER = " ".join(f"Sentence {i:03d} of a benchmark answer, plain words only." for i in range(30))
ANSWER = ANSWER[:1499].rstrip() + "."
TOKENS_PER_S = 40
CHUNK = 6  # characters per streamed token


def _serve_telegram(ports: mp.Queue, stop: Any, results: mp.Queue) -> None:  # type: ignore[type-arg]
    from tests.fakes.telegram_server import FakeTelegramServer

    async def main() -> None:
        async with FakeTelegramServer(TOKEN) as server:
            ports.put(server.base_url)
            await asyncio.to_thread(stop.wait)
            results.put(_summary(server))

    asyncio.run(main())


def _summary(server: Any) -> dict[str, Any]:
    visible = ("sendmessagedraft", "sendmessage", "editmessagetext")
    chats: dict[int, dict[str, Any]] = {}
    for call in server.calls:
        if call.method.lower() not in visible or not call.ok:
            continue
        chat = chats.setdefault(int(call.params["chat_id"]), {"times": [], "last": 0.0})
        chat["times"].append(call.time)
        chat["last"] = call.time
    for (chat_id, _), message in sorted(server.messages.items()):
        if message["from"].get("id") == BOT_ID and chat_id in chats:
            chats[chat_id]["final"] = message.get("text", "")
    refused = [
        (c.method, c.params.get("chat_id"), round(c.time, 3))
        for c in server.calls
        if c.status == 429
    ]
    return {"too_many": server.too_many_requests, "chats": chats, "refused": refused[:10]}


class FirstVisible:
    """Wraps the adapter's relay to read each answer's LLM-first-token -> first-call time."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.finished = 0  # answers whose relay ended, delivered or not
        self._relay = replies.relay

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await self._relay(*args, **kwargs)
        finally:
            self.finished += 1
        if result.first_visible_delay_s is not None and result.text:
            self.delays.append(result.first_visible_delay_s)
        return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _update(update_id: int, chat_id: int, user_id: int) -> dict[str, Any]:
    private = chat_id > 0
    chat = (
        {"id": chat_id, "type": "private", "first_name": "U"}
        if private
        else {"id": chat_id, "type": "supergroup", "title": "G"}
    )
    text = "tell me something" if private else "/ask tell me something"
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "en"},
        "text": text,
    }
    if not private:
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": 4}]
    return {"update_id": update_id, "message": message}


async def _drive(port: int, arrivals: list[tuple[float, int, int]], start: float) -> None:
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as session:

        async def post(at: float, chat_id: int, user_id: int, update_id: int) -> None:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            async with session.post(
                url, json=_update(update_id, chat_id, user_id), headers=headers
            ) as r:
                assert r.status == 200, r.status

        await asyncio.gather(
            *(post(at, chat, user, i + 1) for i, (at, chat, user) in enumerate(arrivals))
        )


def _arrivals(kind: str, scale: float) -> list[tuple[float, int, int]]:
    rng = random.Random(7)
    if kind == "burst":
        count = max(1, round(100 * scale))
        return sorted((rng.uniform(0, 1.0), 10_000 + i, 10_000 + i) for i in range(count))
    private, groups, window = round(360 * scale), round(40 * scale), 60.0 * scale
    items = [(rng.uniform(0, window), 20_000 + i, 20_000 + i) for i in range(private)]
    items += [(rng.uniform(0, window), -(1_000_000 + i), 30_000 + i) for i in range(groups)]
    return sorted(items)


async def scenario(kind: str, scale: float, llm_url: str) -> dict[str, Any]:
    for prefix in (f"sb:pace:tg:{BOT_ID}:", f"sb:tg:{BOT_ID}:"):  # an interrupted run's leftovers
        await drop_redis_prefix(DEFAULT_REDIS, prefix)
    ctx = mp.get_context("spawn")
    ports, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve_telegram, args=(ports, stop, results), daemon=True)
    proc.start()
    api_url = ports.get(timeout=30)
    arrivals = _arrivals(kind, scale)
    port = _free_port()
    probe = FirstVisible()
    replies.relay = probe  # type: ignore[assignment]
    try:
        async with scratch_postgres() as db:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                database_url=db,
                settlement_journal=private_journal(),
                redis_url=DEFAULT_REDIS,
                openai_base_url=llm_url,
                openai_api_key="sk-bench",
                telegram_bot_token=TOKEN,
                telegram_api_url=api_url,
                telegram_webhook_url="https://bench.invalid/telegram/webhook",
                telegram_webhook_secret=SECRET,
                telegram_webhook_host="127.0.0.1",
                telegram_webhook_port=port,
                rate_limits="guest:1000/50,user:1000/50,admin:1000/50",
                welcome_credits="1000",
            )
            async with open_app(settings) as app:
                bot = asyncio.create_task(run(app))
                await asyncio.sleep(1.0)  # the webhook server starts
                cpu0, start = time.process_time(), time.monotonic()
                await _drive(port, arrivals, start)
                await _wait_quiet(app, len(arrivals), probe)
                cpu = time.process_time() - cpu0
                bot.cancel()
                await asyncio.gather(bot, return_exceptions=True)
    finally:
        replies.relay = probe._relay  # type: ignore[assignment]
        stop.set()
        summary = results.get(timeout=60)
        proc.join(10)
        await drop_redis_prefix(DEFAULT_REDIS, f"sb:pace:tg:{BOT_ID}:")
        await drop_redis_prefix(DEFAULT_REDIS, f"sb:tg:{BOT_ID}:")
    return _figures(summary, arrivals, start, cpu, probe.delays)


async def _wait_quiet(app: Any, expected: int, probe: FirstVisible, limit_s: float = 600) -> None:
    deadline = time.monotonic() + limit_s
    shown = time.monotonic()
    while probe.finished < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if time.monotonic() - shown > 10:
            shown = time.monotonic()
            print(f"  … {probe.finished}/{expected} answers delivered", flush=True)


def _figures(
    summary: dict[str, Any], arrivals: list[tuple[float, int, int]], start: float,
    cpu: float, delays: list[float],
) -> dict[str, Any]:  # fmt: skip
    chats = summary["chats"]
    complete = sum(1 for _, chat, _ in arrivals if chats.get(chat, {}).get("final") == ANSWER)
    gaps = [
        statistics.mean(b - a for a, b in zip(c["times"], c["times"][1:], strict=False))
        for c in chats.values()
        if len(c["times"]) > 1
    ]
    last = max((c["last"] for c in chats.values()), default=start)
    sample = next(iter(chats.values()), {}).get("final", "")
    if complete < len(arrivals):
        print("  (a final:", repr(sample[-80:]), "expected:", repr(ANSWER[-80:]), ")")
    if summary["refused"]:
        print("  (429s:", summary["refused"], ")")
    return {
        "conversations": len(arrivals),
        "429s": summary["too_many"],
        "finals complete": complete,
        "first visible p50 ms": 1000 * percentile(delays, 50),
        "first visible p99 ms": 1000 * percentile(delays, 99),
        "mean s between updates": statistics.mean(gaps) if gaps else float("nan"),
        "all finals after s": last - start,
        "cpu s per answer": cpu / max(1, len(arrivals)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the load (quick runs)"
    )
    parser.add_argument("--only", choices=["steady", "burst"])
    args = parser.parse_args()
    script = {"reply": ANSWER, "chunk_chars": CHUNK, "delay": 1 / TOKENS_PER_S}
    with llm_process(**script) as llm_url:
        for kind in ("steady", "burst"):
            if args.only and args.only != kind:
                continue
            figures = asyncio.run(scenario(kind, args.scale, llm_url))
            print(f"{kind}:", flush=True)
            for name, value in figures.items():
                print(
                    f"  {name:24} {value:.3f}"
                    if isinstance(value, float)
                    else f"  {name:24} {value}"
                )


if __name__ == "__main__":
    main()
