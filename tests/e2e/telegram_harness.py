"""Running the real Telegram adapter (aiogram Bot + Dispatcher, ``runner.run``) on a real
app against the fake Bot API server and the fake LLM, and waiting for what it does."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from bots.bootstrap import App, open_app
from bots.settings import Settings
from bots.telegram.runner import run
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.known_secrets import TELEGRAM_TOKEN, TEST_API_KEY

BOT_ID = int(TELEGRAM_TOKEN.split(":")[0])
ADMIN = 9001
GROUP = -100777


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as fake:
        yield fake


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


def settings_for(
    database_url: str, llm: FakeLLM, server: FakeTelegramServer, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "openai_base_url": llm.base_url,
        "openai_api_key": TEST_API_KEY,
        "telegram_bot_token": TELEGRAM_TOKEN,
        "telegram_api_url": server.base_url,
        "bot_admins": f"telegram:{ADMIN}",
        "welcome_credits": "100",
        "rate_limits": "guest:1000/50,user:1000/50,admin:1000/50",
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Running:
    app: App
    server: FakeTelegramServer
    llm: FakeLLM
    task: asyncio.Task[None]


async def until(check: Callable[[], Any], within: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def stop_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@asynccontextmanager
async def running_bot(
    settings: Settings, server: FakeTelegramServer, llm: FakeLLM, **run_kwargs: Any
) -> AsyncIterator[Running]:
    run_kwargs.setdefault("group_interval_s", 0.4)
    async with open_app(settings) as app:
        hooks = len(server.calls_for("setWebhook"))
        task = asyncio.create_task(run(app, **run_kwargs))
        try:
            if settings.telegram_webhook_url:
                await until(
                    lambda: len(server.calls_for("setWebhook")) > hooks or task.done(),
                    what="the webhook",
                )
            else:
                await until(lambda: server.calls_for("getUpdates") or task.done(), what="polling")
            if task.done():
                task.result()
            yield Running(app, server, llm, task)
        finally:
            await stop_task(task)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def texts(server: FakeTelegramServer, chat_id: int) -> list[str]:
    """The bot's messages in a chat, oldest first, as they stand now."""
    return [
        m["text"]
        for (chat, _), m in sorted(server.messages.items())
        if chat == chat_id and "text" in m and m["from"].get("id") == BOT_ID
    ]


def say(server: FakeTelegramServer, chat_id: int, text: str, **fields: Any) -> dict[str, Any]:
    message = server.user_message(chat_id, text, **fields)
    server.push_update({"message": message})
    return message


def command(text: str) -> dict[str, Any]:
    """The entities Telegram adds to a message starting with a /command."""
    name = text.split()[0]
    return {"entities": [{"type": "bot_command", "offset": 0, "length": len(name)}]}
