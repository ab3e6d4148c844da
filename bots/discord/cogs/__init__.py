"""The bot's features as cogs: paid requests, account commands, admin commands, and
conversation in DMs and channels."""

from __future__ import annotations

from bots.discord.cogs.account import Account
from bots.discord.cogs.admin import Admin
from bots.discord.cogs.conversation import Conversation
from bots.discord.cogs.paid import Paid

COGS = (Paid, Account, Admin, Conversation)

__all__ = ["COGS"]
