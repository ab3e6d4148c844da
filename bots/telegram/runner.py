"""Running the Telegram bot: long polling by default, a webhook server when
``TELEGRAM_WEBHOOK_URL`` is set (then several workers can serve one bot behind a load
balancer, sharing Postgres and Redis)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError

from bots.json_body import BadBody, load_object
from bots.settings import Settings, SettingsError
from bots.telegram.app import build_dispatcher
from bots.telegram.commands_menu import register_menus
from bots.telegram.deps import TelegramDeps
from bots.telegram.messenger import TelegramMessenger
from bots.telegram.middlewares import InFlight
from bots.telegram.notices import TelegramInterruptionNotices
from bots.telegram.sink import GROUP_INTERVAL_S

if TYPE_CHECKING:  # the composition root hands App in; adapters never import it
    from bots.bootstrap import App

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 30.0  # answers in progress get this long to finish at shutdown
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
# Telegram measures the gap between calls as they arrive, the pacer as they leave; under
# load a call can leave a few tens of milliseconds late and the next one on time.
PACING_MARGIN_S = 0.08


def check_settings(settings: Settings) -> None:
    if settings.telegram_bot_token is None:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set")
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET must be set when TELEGRAM_WEBHOOK_URL is set")


@asynccontextmanager
async def open_bot(settings: Settings) -> AsyncIterator[Bot]:
    """A ``Bot`` on the official Bot API, or on ``TELEGRAM_API_URL`` when set."""
    assert settings.telegram_bot_token is not None
    api_url = settings.telegram_api_url
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    )
    bot = Bot(settings.telegram_bot_token.get_secret_value(), session=session)
    try:
        yield bot
    finally:
        await bot.session.close()


def build_deps(
    app: App, *, bot_id: int, username: str, group_interval_s: float = GROUP_INTERVAL_S
) -> TelegramDeps:
    """What the handlers reach, for the bot ``bot_id``; its shared flags are its own."""
    settings = app.settings
    return TelegramDeps(
        core=app.core,
        pacer=app.pacer(f"tg:{bot_id}", settings.telegram_global_rate),
        flags=app.kv.flags(f"tg:{bot_id}:"),
        bot_id=bot_id,
        username=username,
        use_drafts=settings.telegram_drafts,
        private_interval_s=settings.telegram_edit_interval + PACING_MARGIN_S,
        group_interval_s=group_interval_s + PACING_MARGIN_S,
    )


async def run(app: App, *, dedupe: bool = True, group_interval_s: float = GROUP_INTERVAL_S) -> None:
    """Serve the bot until cancelled. ``dedupe`` and ``group_interval_s`` exist for tests."""
    settings = app.settings
    check_settings(settings)
    async with open_bot(settings) as bot:
        me = await bot.get_me()
        tg = build_deps(
            app, bot_id=me.id, username=me.username or "", group_interval_s=group_interval_s
        )
        dispatcher, in_flight = build_dispatcher(tg, dedupe=dedupe)
        await register_menus(bot, settings.admins)
        logger.info("telegram bot @%s starting", me.username)
        app.notices["telegram"] = TelegramInterruptionNotices(bot)
        app.messengers["telegram"] = TelegramMessenger(bot, tg.pacer)
        try:
            if settings.telegram_webhook_url:
                await _serve_webhook(dispatcher, bot, settings, in_flight)
            else:
                await _poll(dispatcher, bot)
        finally:
            app.notices.pop("telegram", None)
            app.messengers.pop("telegram", None)
            await in_flight.drain(DRAIN_TIMEOUT_S)


async def _poll(dispatcher: Dispatcher, bot: Bot) -> None:
    await bot.delete_webhook(drop_pending_updates=False)  # getUpdates is refused otherwise
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        # Shielded: on cancellation, stop polling the way aiogram expects, then wait for it.
        await asyncio.shield(polling)
    finally:
        if not polling.done():
            with suppress(RuntimeError):  # polling had not started yet
                await dispatcher.stop_polling()
            with suppress(asyncio.CancelledError):
                await polling


def webhook_path(url: str) -> str:
    return urlsplit(url).path or DEFAULT_WEBHOOK_PATH


def parse_update(body: bytes, content_type: str, bot: Bot) -> Update:
    """The update in a webhook body, or ``BadBody``: the body must be UTF-8 JSON, an
    object of an ``Update``'s shape carrying one event (message, callback query…)."""
    if content_type != "application/json":
        raise BadBody(f"content type {content_type or 'missing'}, not application/json")
    data = load_object(body)
    try:
        update = Update.model_validate(data, context={"bot": bot})
        update.event_type  # noqa: B018 - raises when the update carries no known event
    except (ValidationError, UpdateTypeLookupError, RecursionError):
        raise BadBody("not an update") from None
    return update


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, refusing with 400 what is not an update (invalid UTF-8,
    not JSON, empty, nested too deep, the wrong shape or content type) before anything
    runs: 200 is answered only for an update that will be processed, in the background."""

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            return web.Response(body="Unauthorized", status=401)
        body = await request.read()
        try:
            update = parse_update(body, request.content_type, bot)
        except BadBody as refused:
            logger.warning("telegram webhook: refused a body of %d bytes: %s", len(body), refused)
            return web.json_response({"ok": False, "error": str(refused)}, status=400)
        task = asyncio.create_task(self._feed(bot, update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({})

    async def _feed(self, bot: Bot, update: Update) -> None:
        try:
            result: Any = await self.dispatcher.feed_update(bot, update, **self.data)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=bot, result=result)
        except Exception:  # a handler's bug: logged once, the next update still runs
            logger.exception("telegram update %s failed", update.update_id)


async def _serve_webhook(
    dispatcher: Dispatcher, bot: Bot, settings: Settings, in_flight: InFlight
) -> None:
    assert settings.telegram_webhook_url and settings.telegram_webhook_secret
    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret.get_secret_value()
    web_app = web.Application()
    # Answers 401 to a request without the right X-Telegram-Bot-Api-Secret-Token header,
    # 400 to a body that is not an update.
    CheckedRequestHandler(dispatcher, bot, secret_token=secret).register(
        web_app, path=webhook_path(url)
    )
    setup_application(web_app, dispatcher, bot=bot)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.telegram_webhook_host, settings.telegram_webhook_port)
        await site.start()
        try:
            await bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=dispatcher.resolve_used_update_types(),
                drop_pending_updates=False,
            )
            logger.info(
                "telegram webhook listening on %s:%s",
                settings.telegram_webhook_host,
                settings.telegram_webhook_port,
            )
            await asyncio.Event().wait()  # until cancelled
        finally:
            await site.stop()  # take no new updates, then let the running ones finish
            await in_flight.drain(DRAIN_TIMEOUT_S)
    finally:
        await runner.cleanup()
