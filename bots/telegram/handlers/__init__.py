"""The Telegram handlers, one module per feature: the Stop controls, commands, voice and
audio, chat text, and last whatever else people send (``app.py`` registers them in that
order). ``replies`` holds the few ways a handler answers."""
