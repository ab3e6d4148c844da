"""A broadcast through the limit-enforcing fake Telegram Bot API (429 past 1 message/s per
chat and 30/s per bot): N people on Postgres, one worker's delivery loop with the real
``TelegramMessenger`` and pacer (budgets in Redis, as in production).

Prints people per minute, the 429s Telegram answered, and the delivery report.

    python -m bench.broadcast [--people 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bench.common import DEFAULT_REDIS, drop_redis_prefix, private_journal, scratch_postgres
from bots.bootstrap import open_app
from bots.settings import Settings
from bots.telegram.messenger import TelegramMessenger

TOKEN = "987654321:BENCH-fake-telegram-token"
TEXT = "Benchmark announcement: the bot moves to a new server tonight."


async def main(people: int) -> None:
    from tests.fakes.telegram_server import FakeTelegramServer
    from tests.ops.broadcast_fill import broadcast_counts, confirmed_broadcast

    prefix = f"sb-bench-bc-{int(time.time())}:"
    async with scratch_postgres() as db, FakeTelegramServer(TOKEN) as server:
        draft = await confirmed_broadcast(db, people, TEXT)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=db,
            settlement_journal=private_journal(),
            redis_url=DEFAULT_REDIS,
            redis_prefix=prefix,
            telegram_bot_token=TOKEN,
            telegram_api_url=server.base_url,
            bot_admins="telegram:1",
        )
        session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
        bot = Bot(TOKEN, session=session)
        try:
            async with open_app(settings) as app:
                pacer = app.pacer("tg:bench", settings.telegram_global_rate)
                app.messengers["telegram"] = TelegramMessenger(bot, pacer)
                started = time.monotonic()
                while await app.core.announcements.deliver_some("bench"):
                    pass
                elapsed = time.monotonic() - started
        finally:
            await bot.session.close()
            await drop_redis_prefix(DEFAULT_REDIS, prefix)
        state, counts = await broadcast_counts(db, draft.id)
    sends = sum(1 for call in server.calls if call.method.lower() == "sendmessage")
    print(f"broadcast to {draft.people} people on Telegram (fake Bot API, Postgres + Redis)")
    print(f"  finished in {elapsed:.1f} s: {draft.people / elapsed * 60:.0f} people per minute")
    print(f"  sendMessage calls: {sends}, 429 answers: {server.too_many_requests}")
    print(f"  state: {state}, report: {counts}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    asyncio.run(main(parser.parse_args().people))
