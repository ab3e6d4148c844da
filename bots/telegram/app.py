"""The aiogram application: a Dispatcher with its middlewares and the feature routers,
registered explicitly in the order they are tried."""

from __future__ import annotations

from aiogram import Dispatcher, Router

from bots.telegram.deps import TelegramDeps
from bots.telegram.handlers import broadcast, chat, commands, files, media, other, retry, stop
from bots.telegram.middlewares import ErrorBoundary, InFlight, Person, UpdateDedupe


def build_router() -> Router:
    """Every feature router, behind the caller and error middlewares."""
    root = Router(name="telegram")
    for observer in (root.message, root.edited_message, root.callback_query):
        observer.outer_middleware(Person())
        observer.middleware(ErrorBoundary())
    root.stopped_message_generation.middleware(ErrorBoundary())
    root.include_routers(
        stop.build(),
        commands.build(),
        broadcast.build(),
        retry.build(),
        media.build(),
        files.build(),
        chat.build(),
        other.build(),
    )
    return root


def build_dispatcher(tg: TelegramDeps, *, dedupe: bool = True) -> tuple[Dispatcher, InFlight]:
    """The dispatcher with its routers, middlewares and the handlers' ``tg`` dependency."""
    dispatcher = Dispatcher()
    dispatcher["tg"] = tg
    dispatcher["albums"] = files.Albums()
    if dedupe:
        dispatcher.update.outer_middleware(UpdateDedupe(tg.flags, tg.core))
    in_flight = InFlight()
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.include_router(build_router())
    return dispatcher, in_flight
