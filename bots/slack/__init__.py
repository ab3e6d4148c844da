"""Slack adapter (slack-bolt ``AsyncApp``, HTTP mode or Socket Mode): maps mentions, DMs,
thread follow-ups, slash commands and the Stop button to the core's use cases and streams
answers back (``chat.startStream`` natively, else ``chat.update``).

The same skeleton as every adapter: ``app`` builds bolt and registers the listeners,
``deps`` is what they reach, ``handlers/`` holds one module per feature, ``mapping``
turns payloads into core types, ``sink`` makes the relay's Web API calls (``stream`` the
native stream), ``render`` says how output looks (``mrkdwn`` converts Markdown),
``errors`` maps core and Slack errors in one place, ``runner`` opens and closes the
connection."""
