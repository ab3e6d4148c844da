"""The bot's features, one module each: /ask (``chat``), /image /tts /transcribe
(``media``), the person's own commands (``account``), the /admin group (``admin``),
conversation in DMs and channels (``conversation``) and the Stop button (``stop``). Each is
a cog (or a dynamic item) handed ``Deps``; the client registers them in its setup hook."""
