"""Hostile input on the Telegram webhook: bodies that are not an update get 400 before
anything runs; updates with NUL, lone surrogates, bidi or zero-width characters, or
entities past the text are answered with the text cleaned, charged once, no hold left."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from core.money import MICRO
from core.services.requests import Caller
from core.types import IdentityKey
from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import ADMIN, free_port, running_bot, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer
from tests.hostile_inputs import BODIES, TEXTS, open_holds, tracebacks, watch_logs
from tests.known_secrets import TELEGRAM_WEBHOOK_SECRET

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 1301
ADMIN_CALLER = Caller(IdentityKey("telegram", "", str(ADMIN)))
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET}

# Updates of the wrong shape: JSON objects, but not something the bot can process.
WRONG_SHAPES: list[dict[str, Any]] = [
    {},
    {"update_id": "seven"},
    {"update_id": 1},  # no event at all
    {"update_id": 2, "message": 5},
    {"update_id": 3, "message": {"text": "no chat, no id"}},
    {"update_id": 4, "message": {"message_id": 1, "date": 1, "chat": "me", "text": "x"}},
    {"update_id": 2**70, "message": {}},
    {"update_id": 5, "callback_query": []},
]


def webhook_settings(db: str, llm: FakeLLM, server: FakeTelegramServer) -> Any:
    return settings_for(
        db,
        llm,
        server,
        telegram_webhook_url="https://bot.example.org/telegram/webhook",
        telegram_webhook_secret=TELEGRAM_WEBHOOK_SECRET,
        telegram_webhook_host="127.0.0.1",
        telegram_webhook_port=free_port(),
        telegram_edit_interval=0.05,
    )


async def post(port: int, body: bytes, content_type: str = "application/json") -> int:
    headers = {**HEADERS, "Content-Type": content_type}
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status


@pytest.mark.postgres
async def test_hostile_webhook_bodies_get_400_and_hostile_texts_an_answer(
    pg_url: str, llm: FakeLLM, server: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    watch_logs(caplog)
    settings = webhook_settings(pg_url, llm, server)
    async with running_bot(settings, server, llm) as running:
        port = settings.telegram_webhook_port
        for hostile in BODIES:
            status = await post(port, hostile.body, hostile.content_type)
            assert status == 400, hostile.name
        for shape in WRONG_SHAPES:
            assert await post(port, json.dumps(shape).encode()) == 400, shape

        # Every hostile text in its own update: answered with the text cleaned.
        for n, hostile in enumerate(TEXTS):
            update = {"update_id": 500 + n, "message": server.user_message(USER, hostile.text)}
            # json.dumps writes a lone surrogate as the escape \ud800, as Telegram could.
            assert await post(port, json.dumps(update).encode()) == 200, hostile.name
            await until(lambda n=n: len(texts(server, USER)) > n, what=hostile.name)
        # Entities pointing past the end of the text are ignored.
        past = {"entities": [{"type": "bold", "offset": 40, "length": 10}]}
        update = {"update_id": 600, "message": server.user_message(USER, "short", **past)}
        assert await post(port, json.dumps(update).encode()) == 200
        await until(lambda: len(texts(server, USER)) > len(TEXTS), what="the entities update")

        await asyncio.sleep(0.3)  # room for anything late
        assert texts(server, USER) == [f"Echo: {h.clean}" for h in TEXTS] + ["Echo: short"]
        asked = [r.body["messages"][-1]["content"] for r in llm.requests_to("/chat/completions")]
        assert asked == [h.clean for h in TEXTS] + ["short"]
        account = await running.app.core.admin.find(ADMIN_CALLER, str(USER))
        async with running.app.uow() as tx:
            usage = await tx.usage.recent(account.id, 50)
        assert len(usage) == len(TEXTS) + 1  # charged once each
        assert all(u.credits > 0 for u in usage)
        assert account.balance == 100 * MICRO - sum(u.credits for u in usage)
        assert await open_holds(running.app.uow) == []
    assert tracebacks(caplog) == []
