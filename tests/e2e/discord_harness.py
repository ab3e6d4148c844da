"""A running Switchboard Discord bot for end-to-end tests: the real discord.py client
(through ``bots.discord.runner.run``) against ``FakeDiscord`` and ``FakeLLM``, on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bots.bootstrap import App, open_app
from bots.discord import mapping
from bots.discord.runner import run
from bots.settings import Settings
from core.money import MICRO
from core.services.requests import Caller
from tests.fakes import discord_shapes as shapes
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.llm_server import FakeLLM
from tests.known_secrets import DISCORD_TOKEN, TEST_API_KEY

JSON = dict[str, Any]
WELCOME = 100 * MICRO


@dataclass
class DiscordEnv:
    fake: FakeDiscord
    llm: FakeLLM
    app: App
    guild_id: int
    channel_id: int
    admin: JSON  # a bot admin (BOT_ADMINS)
    alice: JSON  # an ordinary user
    dm_channel_id: int

    def caller(self, user: JSON) -> Caller:
        return Caller(mapping.caller_identity(user["id"]))

    async def balance(self, user: JSON) -> int:
        account = await self.app.core.accounts.resolve(self.caller(user))
        return account.balance

    async def slash(
        self,
        name: str,
        options: JSON | None = None,
        *,
        user: JSON | None = None,
        dm: bool = False,
        **kw: Any,
    ) -> int:
        payload = self.fake.slash(
            name, options, user=user or self.alice,
            channel_id=self.dm_channel_id if dm else self.channel_id,
            guild_id=None if dm else self.guild_id, **kw,
        )  # fmt: skip
        return await self.fake.dispatch_interaction(payload)

    def text(self, interaction_id: int) -> list[str]:
        return [m["content"] for m in self.fake.answer(interaction_id)]

    def settled(self, interaction_id: int) -> bool:
        """Answered, and no message of the answer still shows the Stop button."""
        messages = self.fake.answer(interaction_id)
        state = self.fake.interactions[interaction_id]
        if not messages and state.original_id is None:
            return False
        return all(not m["components"] and not int(m["flags"]) & 128 for m in messages)


async def eventually(
    check: Callable[[], bool], within: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def discord_env(
    database_url: str, *, token_ttl_s: float = 900.0, **settings: Any
) -> AsyncIterator[DiscordEnv]:
    async with FakeLLM(api_key=TEST_API_KEY) as llm, FakeDiscord(token_ttl_s=token_ttl_s) as fake:
        guild_id, channel_id = fake.add_guild()
        admin = shapes.user(shapes.snowflake(), "admin")
        alice = shapes.user(shapes.snowflake(), "alice")
        values: dict[str, Any] = {
            "database_url": database_url,
            "openai_base_url": llm.base_url,
            "openai_api_key": TEST_API_KEY,
            "discord_bot_token": DISCORD_TOKEN,
            "discord_api_url": fake.base_url,
            "discord_gateway_url": fake.gateway_url,
            "discord_guild_ids": str(guild_id),
            "bot_admins": f"discord:{admin['id']}",
            "rate_limits": "guest:10000/100,user:10000/100,admin:10000/100",
            "welcome_credits": "100",
            **settings,
        }
        async with open_app(Settings(_env_file=None, **values)) as app:  # type: ignore[call-arg]
            task = asyncio.create_task(run(app))
            try:
                await fake.gateway.wait_ready()
                await eventually(lambda: guild_id in fake.commands, what="command sync")
                yield DiscordEnv(
                    fake, llm, app, guild_id, channel_id, admin, alice, shapes.snowflake()
                )
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
