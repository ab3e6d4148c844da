"""Writing to one person's private chat outside any update (announcements, admin
notices): ``core.ports.PrivateMessenger`` for Telegram.

Each message waits its turn in the bot's pacer, the same budgets every answer uses (per
chat, and about 27 calls a second for the whole bot across every worker), so a broadcast
to thousands stays under Telegram's limits while people's answers keep flowing. A 429 is
waited out in full (and pauses the whole bot, as Telegram's flood control is per bot)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)

from bots.streaming import Pacer, Priority
from core.ports import DeliveryOutcome
from core.types import IdentityKey

logger = logging.getLogger(__name__)

PRIVATE_INTERVAL_S = 1.0
MAX_ATTEMPTS = 5


class TelegramMessenger:
    def __init__(self, bot: Bot, pacer: Pacer) -> None:
        self._bot = bot
        self._pacer = pacer

    async def send_private(self, identity: IdentityKey, text: str) -> DeliveryOutcome:
        chat_key = f"tg:{identity.user_id}"  # the relay's key: one budget per chat
        for _ in range(MAX_ATTEMPTS):
            # INTERIM: people's answers (finals, first text) go before announcements.
            await self._pacer.wait_turn(chat_key, PRIVATE_INTERVAL_S, Priority.INTERIM)
            try:
                await self._bot.send_message(int(identity.user_id), text)
            except TelegramRetryAfter as error:
                await self._pacer.penalize(chat_key, float(error.retry_after), bot_wide=True)
                continue
            except TelegramForbiddenError:
                return DeliveryOutcome.BLOCKED  # blocked the bot, or never started it
            except TelegramBadRequest as error:
                if "chat not found" in error.message.lower():
                    return DeliveryOutcome.BLOCKED
                logger.info("telegram refused a private message: %s", error.message)
                return DeliveryOutcome.FAILED
            except TelegramAPIError as error:
                logger.info("telegram private message failed: %s", error.message)
                return DeliveryOutcome.FAILED
            return DeliveryOutcome.DELIVERED
        return DeliveryOutcome.FAILED
