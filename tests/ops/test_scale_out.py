"""Two Telegram webhook workers behind a round-robin proxy, on one Postgres and one Redis:
one answer per update (duplicates included), exact credits, and per-chat pacing held across
both workers (the fake Bot API enforces flood control and answers 429 when it is broken)."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from core.money import MICRO
from core.types import IdentityKey
from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import running_bot, texts, until
from tests.e2e.test_telegram_reliability import webhook_settings
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.known_secrets import TELEGRAM_WEBHOOK_SECRET

# Worker processes, a browser or a fuzzer: slow; `pytest -m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

CHATS = range(2201, 2209)
QUESTIONS = 3
REPLY = " ".join(f"w{i}" for i in range(40))


@asynccontextmanager
async def round_robin(ports: list[int]) -> AsyncIterator[int]:
    """A tiny load balancer: each request goes to the next worker in turn."""
    turn = itertools.cycle(ports)
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        url = f"http://127.0.0.1:{next(turn)}{request.path}"
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-telegram")}
        async with session.post(
            url, data=await request.read(), headers={**headers, "Content-Type": "application/json"}
        ) as answer:
            return web.Response(status=answer.status, body=await answer.read())

    app = web.Application()
    app.router.add_post("/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()
        await session.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_workers_behind_a_load_balancer(
    pg_url, redis_url, llm: FakeLLM, server: FakeTelegramServer
):
    llm.script(reply=REPLY, delay=0.04)  # ~1.6 s per answer: several paced edits each
    first = webhook_settings(pg_url, llm, server, redis_url=redis_url)
    second = webhook_settings(pg_url, llm, server, redis_url=redis_url, auto_migrate=False)
    assert server.limits_enabled
    async with (
        running_bot(first, server, llm) as worker,
        running_bot(second, server, llm),
        round_robin([first.telegram_webhook_port, second.telegram_webhook_port]) as port,
        aiohttp.ClientSession() as http,
    ):

        async def deliver(update: dict) -> None:
            headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET}
            async with http.post(
                f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers=headers
            ) as r:
                assert r.status == 200

        base = random.randint(10**8, 10**9)
        for round_ in range(QUESTIONS):
            # Two questions per chat at once, so two workers answer in the same chat and
            # only the pacing they share in Redis keeps that chat under Telegram's limit.
            updates = [
                {
                    "update_id": base + round_ * 100 + 2 * n + k,
                    "message": server.user_message(chat, f"question {round_}.{k}"),
                }
                for n, chat in enumerate(CHATS)
                for k in range(2)
            ]
            # Every update twice: the copies land on different workers (round robin).
            await asyncio.gather(*(deliver(u) for u in updates for _ in range(2)))
            await until(
                lambda r=round_: all(texts(server, c).count(REPLY) == 2 * (r + 1) for c in CHATS),
                within=60,
                what=f"round {round_} answered",
            )
        await asyncio.sleep(1.0)  # room for a duplicate answer, which must not come

        for chat in CHATS:
            assert texts(server, chat).count(REPLY) == 2 * QUESTIONS
        assert len(llm.requests_to("/chat/completions")) == len(CHATS) * QUESTIONS * 2
        assert server.too_many_requests == 0
        async with worker.app.uow() as uow:
            for chat in CHATS:
                account = await uow.accounts.find_by_identity(
                    IdentityKey("telegram", "", str(chat))
                )
                assert account is not None
                charged = [u.credits for u in await uow.usage.recent(account.id, 100)]
                assert len(charged) == 2 * QUESTIONS and all(c > 0 for c in charged)
                assert account.balance == 100 * MICRO - sum(charged)
                assert account.balance == await uow.ledger.sum_for(account.id)
