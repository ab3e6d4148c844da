"""Telegram adapter: turns Bot API updates into core requests and streams the core's answers
back (drafts in private chats, edited messages in groups), paced and 429-safe.

Skeleton: ``app`` (Dispatcher, middlewares, routers), ``deps`` (what handlers reach),
``handlers/`` (one module per feature), ``mapping`` (updates -> core types), ``sink``
(Bot API calls for the relay), ``render`` (keyboards, captions), ``errors`` (core and
Bot API errors), ``runner`` (polling or webhook). Extras: ``markdown`` (final text as
Telegram HTML), ``drafts`` (draft -> answer, for Telegram's stop control),
``middlewares`` (dedupe, caller, error boundary, in-flight), ``commands_menu``."""
