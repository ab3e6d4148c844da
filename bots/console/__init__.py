"""The console chat: the same core and commands as the messengers, in a terminal."""
