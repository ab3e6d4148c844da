"""The console adapter: the same core and commands as the messengers, in a terminal.

One person (the local user) types lines; a plain line is a chat message streamed back as
it is generated, ``/image`` and ``/tts`` save files, every other ``/command`` is the
shared command set of ``bots.commands``. Modules follow the adapter skeleton: ``app``
(the loop and its handler table), ``deps``, ``handlers/``, ``mapping``, ``sink``,
``render``, ``errors``, ``runner``."""
