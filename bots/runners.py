"""Which adapters run, and running them side by side on one opened app.

Each adapter package exposes ``runner.run(app)``; it is imported only when chosen, so a
machine running only Slack never imports aiogram."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable

from bots.bootstrap import App, open_app
from bots.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

ADAPTERS: dict[str, Callable[[Settings], bool]] = {
    "telegram": lambda s: s.telegram_bot_token is not None,
    "discord": lambda s: s.discord_bot_token is not None,
    "slack": lambda s: s.slack_bot_token is not None,
    "api": lambda s: s.jwt_secret is not None,
}


def choose_adapters(settings: Settings, requested: list[str]) -> list[str]:
    unknown = [name for name in requested if name not in ADAPTERS]
    if unknown:
        raise SettingsError(f"unknown adapter {unknown[0]!r}; choose from {', '.join(ADAPTERS)}")
    return requested or [name for name, configured in ADAPTERS.items() if configured(settings)]


def _runner(name: str) -> Callable[[App], Awaitable[None]]:
    try:
        module = importlib.import_module(f"bots.{name}.runner")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"bots.{name}"):
            raise SettingsError(f"the {name} adapter is not part of this build yet") from None
        raise
    run: Callable[[App], Awaitable[None]] = module.run
    return run


async def run_adapters(settings: Settings, requested: list[str]) -> None:
    names = choose_adapters(settings, requested)
    if not names:
        logger.info("no messenger token set: opening the console chat")
        await run_console_app(settings)
        return
    runners = [_runner(name) for name in names]
    async with open_app(settings) as app, asyncio.TaskGroup() as group:
        for name, run in zip(names, runners, strict=True):
            logger.info("starting the %s adapter", name)
            group.create_task(run(app))


async def run_console_app(settings: Settings) -> None:
    from bots.console.chat import run_console

    async with open_app(settings) as app:
        await run_console(app.core)
