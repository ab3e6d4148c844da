"""The aiogram routers of the Telegram adapter, in the order they are tried: the Stop
controls, commands, voice and audio, chat text, and last whatever else people send."""

from __future__ import annotations

from aiogram import Router

from bots.telegram.handlers import chat, commands, media, other, stop
from bots.telegram.middlewares import ErrorBoundary, Person


def build_router() -> Router:
    root = Router(name="telegram")
    for observer in (root.message, root.edited_message, root.callback_query):
        observer.outer_middleware(Person())
        observer.middleware(ErrorBoundary())
    root.stopped_message_generation.middleware(ErrorBoundary())
    root.include_routers(stop.build(), commands.build(), media.build(), chat.build(), other.build())
    return root
