"""Discord adapter (discord.py 2): slash commands in cogs, DM and channel conversation,
answers streamed by editing the deferred interaction response (``render.py``) through the
shared relay. ``runner.run(app)`` starts it; nothing here holds a credit or role rule."""
