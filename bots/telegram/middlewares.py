"""Cross-cutting steps around every handler: drop redelivered updates early, turn
refusals and failures into one short reply, and know what is still running at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bots.language import translator
from bots.streaming import DeliveryFailed
from bots.telegram.deps import TelegramDeps
from bots.telegram.errors import describe
from bots.telegram.handlers.replies import say
from bots.telegram.mapping import caller_of, event_id, message_caller
from core.errors import CoreError
from core.ports import SharedFlags
from core.services import Core

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
SEEN_TTL_S = 24 * 3600


class UpdateDedupe(BaseMiddleware):
    """The fast path against redeliveries (free commands too, e.g. /grant): the first
    worker to claim an update id handles it. Paid requests are also guarded by the
    event id the core stores in Postgres, which holds even when Redis is down."""

    def __init__(self, flags: SharedFlags, core: Core | None = None) -> None:
        self._flags = flags
        self._core = core

    async def _claim(self, update_id: int) -> bool:
        return await self._flags.claim(f"update:{update_id}", SEEN_TTL_S)

    async def _died_unanswered(self, update: Update) -> bool:
        """A redelivery of an update whose worker died mid-answer is handled again (the
        core admits it once)."""
        if self._core is None:
            return False
        try:
            return await self._core.chat.redelivery_wanted("telegram", event_id(update))
        except CoreError:  # the database is down: the core would refuse it anyway
            return False

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if (
            isinstance(event, Update)
            and not await self._claim(event.update_id)
            and not await self._died_unanswered(event)
        ):
            logger.info("update %s was delivered before: skipped", event.update_id)
            return None
        return await handler(event, data)


class InFlight(BaseMiddleware):
    """Remembers the tasks handling updates, so shutdown can let them finish."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            return await handler(event, data)
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def drain(self, timeout_s: float) -> None:
        current = asyncio.current_task()
        pending = [task for task in self.tasks if task is not current]
        if not pending:
            return
        logger.info("waiting for %d answers in progress", len(pending))
        done, still = await asyncio.wait(pending, timeout=timeout_s)
        for task in still:
            task.cancel()
        await asyncio.gather(*still, return_exceptions=True)


class ErrorBoundary(BaseMiddleware):
    """The outer edge of every handler: a refusal becomes a short message in the person's
    language, a failure is logged and apologised for; nothing reaches the dispatcher."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except CoreError as exc:
            await self._answer(event, data, exc)
        except (DeliveryFailed, TelegramAPIError) as exc:
            logger.warning("telegram delivery failed: %s", exc)
        except Exception:  # the edge: log it and tell the person
            logger.exception("telegram handler failed")
            await self._answer(event, data, CoreError())
        return None

    async def _answer(self, event: TelegramObject, data: dict[str, Any], exc: CoreError) -> None:
        tg: TelegramDeps = data["tg"]
        if isinstance(event, Message):
            caller = message_caller(event)
        elif isinstance(event, CallbackQuery):
            caller = caller_of(event.from_user)
        else:
            return
        t = await translator(tg.core, caller)
        text = describe(t, exc)
        if text is None:
            return
        try:
            if isinstance(event, CallbackQuery):
                await event.answer(text[:200], show_alert=True)
            else:
                await say(tg, event, text)
        except (DeliveryFailed, TelegramAPIError) as error:
            logger.warning("could not deliver an error message: %s", error)


class Person(BaseMiddleware):
    """Injects ``caller``; updates from service senders, channels and bots stop here, so
    they never get an account and never cost anything."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Message):
            caller = message_caller(event)
        elif isinstance(event, CallbackQuery):
            caller = caller_of(event.from_user)
        else:
            caller = None
        if caller is None:
            logger.debug("update from a service sender or a chat: ignored")
            return None
        data["caller"] = caller
        return await handler(event, data)
