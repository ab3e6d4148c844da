"""Discord adapter (discord.py 2): slash commands and conversation in DMs and channels,
each handler mapping the input, deferring within Discord's 3 s, calling one use case and
rendering; answers stream by editing the deferred response through the shared relay.
``runner.run(app)`` starts it; nothing here holds a credit or role rule."""
