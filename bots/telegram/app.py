"""The aiogram application: a Dispatcher with its middlewares and the feature routers,
registered explicitly in the order they are tried."""

from __future__ import annotations

from aiogram import Dispatcher, Router

from bots.bootstrap import App
from bots.telegram.deps import TelegramDeps
from bots.telegram.drafts import DraftRegistry
from bots.telegram.handlers import chat, commands, media, other, stop
from bots.telegram.middlewares import ErrorBoundary, InFlight, Person, UpdateDedupe
from bots.telegram.sink import GROUP_INTERVAL_S

# Telegram measures the gap between calls as they arrive, the pacer as they leave; under
# load a call can leave a few tens of milliseconds late and the next one on time.
PACING_MARGIN_S = 0.08


def build_router() -> Router:
    root = Router(name="telegram")
    for observer in (root.message, root.edited_message, root.callback_query):
        observer.outer_middleware(Person())
        observer.middleware(ErrorBoundary())
    root.stopped_message_generation.middleware(ErrorBoundary())
    root.include_routers(stop.build(), commands.build(), media.build(), chat.build(), other.build())
    return root


def build_dispatcher(
    app: App,
    *,
    bot_id: int,
    username: str,
    dedupe: bool = True,
    group_interval_s: float = GROUP_INTERVAL_S,
) -> tuple[Dispatcher, InFlight]:
    """The dispatcher with its routers, middlewares and the handlers' ``tg`` dependency."""
    settings, redis = app.settings, app.kv.redis
    dispatcher = Dispatcher()
    dispatcher["tg"] = TelegramDeps(
        core=app.core,
        pacer=app.pacer(f"tg:{bot_id}", settings.telegram_global_rate),
        drafts=DraftRegistry(redis, f"{app.settings.redis_prefix}tg:{bot_id}:draft:"),
        bot_id=bot_id,
        username=username,
        use_drafts=settings.telegram_drafts,
        private_interval_s=settings.telegram_edit_interval + PACING_MARGIN_S,
        group_interval_s=group_interval_s + PACING_MARGIN_S,
    )
    if dedupe:
        dispatcher.update.outer_middleware(
            UpdateDedupe(redis, f"{app.settings.redis_prefix}tg:{bot_id}:update:")
        )
    in_flight = InFlight()
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.include_router(build_router())
    return dispatcher, in_flight
