"""The bot's features as cogs: paid requests, account commands, admin commands, and
conversation in DMs and channels."""

from __future__ import annotations

from bots.discord.handlers.account import Account
from bots.discord.handlers.admin import Admin
from bots.discord.handlers.conversation import Conversation
from bots.discord.handlers.paid import Paid

COGS = (Paid, Account, Admin, Conversation)

__all__ = ["COGS"]
