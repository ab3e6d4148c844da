"""Redelivered updates (one answer, one charge, also across two webhook workers sharing
Postgres and Redis), the webhook's secret, and start-up without one."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aiohttp
import pytest

from bots.runners import run_adapters
from bots.settings import SettingsError
from core.money import MICRO
from core.services.requests import Caller
from core.types import IdentityKey
from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import (
    ADMIN,
    BOT_ID,
    Running,
    free_port,
    running_bot,
    settings_for,
    texts,
    until,
)
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.known_secrets import TELEGRAM_WEBHOOK_SECRET

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 1101
ADMIN_CALLER = Caller(IdentityKey("telegram", "", str(ADMIN)))


async def assert_charged_once(running: Running, user: int) -> None:
    view = await running.app.core.admin.view(ADMIN_CALLER, str(user))
    assert len(view.recent) == 1 and view.recent[0].credits > 0
    assert view.account.balance == 100 * MICRO - view.recent[0].credits


async def test_duplicated_update_one_answer_one_charge(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply="Only once.", delay=0.05)
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm) as running:
        update = {"update_id": 77, "message": server.user_message(USER, "hello")}
        server.push_update(update)
        server.push_update(update)  # Telegram redelivers
        await until(lambda: texts(server, USER), what="the answer")
        await asyncio.sleep(1.2)  # room for a second answer, which must not come
        assert texts(server, USER) == ["Only once."]
        assert len(llm.requests_to("/chat/completions")) == 1
        await assert_charged_once(running, USER)


def webhook_settings(db: str, llm: FakeLLM, server: FakeTelegramServer, **extra: Any) -> Any:
    port = free_port()
    return settings_for(
        db,
        llm,
        server,
        telegram_webhook_url="https://bot.example.org/telegram/webhook",
        telegram_webhook_secret=TELEGRAM_WEBHOOK_SECRET,
        telegram_webhook_host="127.0.0.1",
        telegram_webhook_port=port,
        **extra,
    )


async def post_update(port: int, update: dict[str, Any], secret: str | None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with session.post(url, json=update, headers=headers) as response:
            return response.status


async def test_webhook_refuses_a_wrong_secret(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    settings = webhook_settings(sqlite_url, llm, server)
    async with running_bot(settings, server, llm) as running:
        assert server.webhook_url == "https://bot.example.org/telegram/webhook"
        (hook,) = server.calls_for("setWebhook")
        assert hook.params["secret_token"] == TELEGRAM_WEBHOOK_SECRET
        port = settings.telegram_webhook_port
        message = server.user_message(USER, "sneaky")
        assert await post_update(port, {"update_id": 5, "message": message}, "wrong") == 401
        assert await post_update(port, {"update_id": 6, "message": message}, None) == 401
        good = server.user_message(USER, "legit")
        assert (
            await post_update(port, {"update_id": 7, "message": good}, TELEGRAM_WEBHOOK_SECRET)
            == 200
        )
        await until(lambda: texts(server, USER), what="the legit answer")
        await asyncio.sleep(0.3)
        assert texts(server, USER) == ["Echo: legit"]
        assert len(llm.requests_to("/chat/completions")) == 1
        await assert_charged_once(running, USER)


async def test_webhook_without_secret_fails_in_one_line(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    settings = webhook_settings(sqlite_url, llm, server).model_copy(
        update={"telegram_webhook_secret": None}
    )
    with pytest.raises(SettingsError, match="^TELEGRAM_WEBHOOK_SECRET must be set"):
        await run_adapters(settings, ["telegram"])
    assert not server.calls  # nothing was started


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("fast_path", [True, False], ids=["redis-dedupe", "postgres-only"])
async def test_two_workers_one_answer_one_charge(
    pg_url: str, redis_url: str, llm: FakeLLM, server: FakeTelegramServer, fast_path: bool
) -> None:
    """The same update reaches two webhook workers at once (a redelivery behind a load
    balancer). Without the Redis fast path the Postgres event key alone must hold."""
    llm.script(reply="Exactly one answer.", delay=0.05)
    first = webhook_settings(pg_url, llm, server, redis_url=redis_url)
    second = webhook_settings(pg_url, llm, server, redis_url=redis_url, auto_migrate=False)
    update_id = random.randint(10**8, 10**9)
    update = {"update_id": update_id, "message": server.user_message(USER, "hello twice")}
    async with (
        running_bot(first, server, llm, dedupe=fast_path) as worker,
        running_bot(second, server, llm, dedupe=fast_path),
    ):
        statuses = await asyncio.gather(
            post_update(first.telegram_webhook_port, update, TELEGRAM_WEBHOOK_SECRET),
            post_update(second.telegram_webhook_port, update, TELEGRAM_WEBHOOK_SECRET),
        )
        assert statuses == [200, 200]
        await until(lambda: texts(server, USER), what="the answer")
        await asyncio.sleep(1.0)
        assert texts(server, USER) == ["Exactly one answer."]
        assert len(llm.requests_to("/chat/completions")) == 1
        await assert_charged_once(worker, USER)
        redis = worker.app.kv.redis
        assert redis is not None
        await redis.delete(f"{worker.app.settings.redis_prefix}flag:tg:{BOT_ID}:update:{update_id}")


@pytest.mark.parametrize("fast_path", [True, False], ids=["flag-dedupe", "database-only"])
async def test_redelivered_grant_adds_the_credits_once(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer, fast_path: bool
) -> None:
    """A free command redelivered (same update_id): one grant, one reply. Without the
    shared-flag fast path the event id stored with the grant alone must hold."""
    async with running_bot(
        settings_for(sqlite_url, llm, server), server, llm, dedupe=fast_path
    ) as running:
        await running.app.core.accounts.resolve(Caller(IdentityKey("telegram", "", str(USER))))
        text = f"/grant {USER} 5 thanks"
        message = server.user_message(ADMIN, text, **telegram_harness.command(text))
        update = {"update_id": 4242, "message": message}
        server.push_update(update)
        server.push_update(update)  # Telegram redelivers
        await until(lambda: texts(server, ADMIN), what="the grant's reply")
        await asyncio.sleep(1.0)  # room for a second reply, which must not come
        assert len(texts(server, ADMIN)) == 1 and "105" in texts(server, ADMIN)[0]
        view = await running.app.core.admin.view(ADMIN_CALLER, str(USER))
        assert view.account.balance == 105 * MICRO
