"""The paid flows every Slack entry point shares: stream a chat answer through the relay,
upload an image or audio, transcribe a shared clip; failures become one clear message."""

from __future__ import annotations

import logging
from contextlib import aclosing
from dataclasses import dataclass

import aiohttp

from bots.commands import translator_for
from bots.slack import mapping
from bots.slack.deps import SlackBot
from bots.slack.errors import describe, mapped
from bots.slack.sink import SlackSink
from bots.streaming import DeliveryFailed, relay
from core.errors import CoreError, DuplicateEvent
from core.i18n import Translator
from core.services.requests import Caller, ChatRequest, TranscriptionRequest
from core.types import Outcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """Where an answer goes: a channel, a thread in it (None: the channel itself)."""

    team_id: str
    channel: str
    thread_ts: str | None
    user_id: str

    @property
    def is_dm(self) -> bool:
        return self.channel.startswith("D")


async def tell(bot: SlackBot, target: Target, text: str, *, private: bool) -> None:
    """A message from the bot; private ones only the person sees (not possible in a DM,
    where only they see it anyway)."""
    async with mapped("reply"):
        if private and not target.is_dm:
            await bot.client.chat_postEphemeral(
                channel=target.channel, user=target.user_id, text=text, thread_ts=target.thread_ts
            )
        else:
            await bot.client.chat_postMessage(
                channel=target.channel, text=text, thread_ts=target.thread_ts
            )


async def refuse(bot: SlackBot, target: Target, t: Translator, exc: CoreError) -> None:
    if isinstance(exc, DuplicateEvent):
        logger.info("slack: duplicate event for %s, not answered", target.channel)
        return
    try:
        await tell(bot, target, describe(t, exc), private=True)
    except DeliveryFailed as failure:
        logger.warning("slack: could not deliver an error message: %s", failure)


def _sink(bot: SlackBot, target: Target, request_id: str, t: Translator) -> SlackSink:
    return SlackSink(
        bot.client,
        target.channel,
        team_id=target.team_id,
        user_id=target.user_id,
        request_id=request_id,
        thread_ts=target.thread_ts,
        native=bot.native,
        stop_label=t("reply.stop_button"),
        interval_s=bot.settings.slack_edit_interval,
    )


async def chat(
    bot: SlackBot, target: Target, caller: Caller, chat_id: str, text: str, event_id: str | None
) -> None:
    """Stream the answer to ``text``; nothing at all for a duplicate event."""
    t = await translator_for(bot.app.core, caller)
    request = ChatRequest(caller=caller, chat_id=chat_id, text=text, event_id=event_id)
    sink = _sink(bot, target, request.request_id, t)
    pacer = bot.pacer(target.team_id, native=sink.limits.native_preview)
    try:
        async with aclosing(bot.app.core.chat.ask(request)) as events:
            result = await relay(events, sink, pacer)
    except CoreError as exc:
        await refuse(bot, target, t, exc)
        return
    finally:
        if sink.native_refused and bot.native:
            logger.warning("slack: native streaming refused (scope): editing messages from now")
            bot.native = False
    if result.outcome in (Outcome.STOPPED, Outcome.CUT):
        key = "reply.stopped" if result.outcome is Outcome.STOPPED else "reply.cut"
        await sink.notice(t(key))


async def transcribe_and_chat(
    bot: SlackBot,
    target: Target,
    caller: Caller,
    chat_id: str,
    item: dict[str, object],
    slack_event: str | None,
) -> None:
    """A shared clip: transcribe it (its own event id), show the words, answer them."""
    t = await translator_for(bot.app.core, caller)
    try:
        audio = await download(bot, item)
        transcript, _cost = await bot.app.core.media.transcribe(
            TranscriptionRequest(
                caller=caller,
                chat_id=chat_id,
                audio=audio,
                filename=str(item.get("name") or "audio.ogg"),
                declared_seconds=mapping.audio_seconds(item),
                event_id=mapping.event_id(slack_event, "stt"),
            )
        )
    except CoreError as exc:
        await refuse(bot, target, t, exc)
        return
    except (DeliveryFailed, aiohttp.ClientError) as failure:
        logger.warning("slack: audio file not read: %s", failure)
        await tell(bot, target, t("error.internal"), private=True)
        return
    await tell(bot, target, t("reply.transcript", text=transcript.text), private=False)
    await chat(bot, target, caller, chat_id, transcript.text, mapping.event_id(slack_event))


async def download(bot: SlackBot, item: dict[str, object]) -> bytes:
    """A shared file's bytes, read no further than the core's size limit allows (the
    core then refuses an oversized clip with its own message)."""
    url = str(item.get("url_private_download") or item.get("url_private") or "")
    if not url or not _trusted(bot, url):
        raise DeliveryFailed("slack: file has no trusted download URL")
    limit = bot.app.core.config.max_audio_bytes + 1
    token = bot.client.token or ""
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        if response.status != 200 or response.content_type == "text/html":
            raise DeliveryFailed(f"slack: file download answered {response.status}")
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) >= limit:
                break
        return bytes(data[:limit])


def _trusted(bot: SlackBot, url: str) -> bool:
    """The bot token goes only to Slack's file host (or the configured API server)."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    api = urlsplit(bot.settings.slack_api_url or "https://slack.com/api/").hostname or ""
    return host == api or host == "files.slack.com" or host.endswith(".slack.com")
