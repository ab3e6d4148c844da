"""Discord adapter (discord.py 2, app_commands in cogs)."""
