"""Slack listeners, one module per feature: events (mentions, DMs, thread follow-ups),
slash commands, the Stop action, chat answers and media."""
