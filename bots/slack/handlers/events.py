"""Events API listeners: mentions, DMs, follow-ups in the bot's threads, shared audio.

Bolt acknowledges events itself before these run (``process_before_response`` off), so
Slack gets its 200 at once; a redelivery (``X-Slack-Retry-Num``) carries the same
``event_id`` and the core refuses it with ``DuplicateEvent``: one answer, one charge."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bots.files import refusal_before_download
from bots.slack import mapping
from bots.slack.deps import SlackDeps
from bots.slack.handlers import chat, files, media
from bots.slack.handlers.media import download
from bots.slack.mapping import Target
from bots.streaming import DeliveryFailed
from core.services.attachments import FileKind, kind_of
from core.services.requests import Attachment, Quote

logger = logging.getLogger(__name__)

EventListener = Callable[[dict[str, Any], dict[str, Any], AsyncBoltContext], Awaitable[None]]


def on_mention(deps: SlackDeps) -> EventListener:
    async def mention(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not mapping.from_person(event):
            return
        message = mapping.incoming(body, event)
        await deps.threads.remember(message.team_id, message.channel, message.thread)
        await _answer(deps, message, context.bot_user_id)

    return mention


def on_message(deps: SlackDeps) -> EventListener:
    async def message_event(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if not mapping.from_person(event):
            return
        message = mapping.incoming(body, event)
        if not message.is_dm:
            # A mention arrives as app_mention too: answered there, not twice.
            if message.thread_ts is None or mapping.mentions(message.text, context.bot_user_id):
                return
            if not await deps.threads.follows(
                message.team_id, message.channel, message.thread_ts, context.bot_user_id
            ):
                return
        await _answer(deps, message, context.bot_user_id)

    return message_event


async def _answer(deps: SlackDeps, message: mapping.Incoming, bot_user_id: str | None) -> None:
    caller = mapping.in_channel(
        await deps.caller(message.team_id, message.user),
        message.team_id,
        message.channel,
        message.is_dm,
    )
    # In a DM the answer threads under the message only when streaming natively needs it.
    thread = message.thread if not message.is_dm or deps.native else message.thread_ts
    target = Target(message.team_id, message.channel, thread, message.user)
    chat_id = mapping.chat_id(message.team_id, message.channel, message.thread)
    clip = mapping.audio_file(message.files)
    if clip is not None:
        await media.transcribe_and_answer(deps, target, caller, chat_id, clip, message.event_id)
        return
    text = mapping.plain_text(message.text, bot_user_id)
    shared = mapping.usable_files(message.files)
    if shared:
        await files.answer_with_files(deps, target, caller, chat_id, text, shared, message.event_id)
        return
    if not text and message.files:
        return  # a non-audio file with no words: nothing to answer
    quoted = await thread_parent(deps, message, bot_user_id)
    event = mapping.event_id(message.event_id)
    await chat.answer(deps, target, caller, chat_id, text, event, quoted=quoted)


async def thread_parent(
    deps: SlackDeps, message: mapping.Incoming, bot_user_id: str | None
) -> tuple[Quote, ...]:
    """A question asked in a thread goes with the thread's first message (Slack threads
    are one level deep, so the parent is the whole chain ``QUOTE_DEPTH`` can follow)."""
    if deps.core.config.quote_depth <= 0 or message.thread_ts in (None, message.ts):
        return ()
    try:
        response = await deps.client.conversations_replies(
            channel=message.channel, ts=message.thread_ts, limit=1
        )
    except SlackApiError as error:
        logger.info("thread parent not read: %s", error.response.get("error"))
        return ()
    parents: list[dict[str, Any]] = response.get("messages") or []
    if not parents:
        return ()
    parent = parents[0]
    text = mapping.plain_text(str(parent.get("text") or ""), bot_user_id)
    user = str(parent.get("user") or "")
    author = "assistant" if bot_user_id and user == bot_user_id else (user or None)
    pictures = await _parent_pictures(deps, parent)
    return (Quote(text=text, author=author, images=pictures),) if text or pictures else ()


async def _parent_pictures(deps: SlackDeps, parent: dict[str, Any]) -> tuple[Attachment, ...]:
    """The thread parent's pictures, for a vision model. The person did not share them
    with this question: one too large (declared size) or not read is left out (logged)."""
    config = deps.core.config
    pictures: list[Attachment] = []
    for item in parent.get("files") or []:
        name, mime = str(item.get("name") or "file"), str(item.get("mimetype") or "") or None
        if kind_of(name, mime) is not FileKind.IMAGE:
            continue
        size = item.get("size")
        if refusal_before_download(name, mime, size if isinstance(size, int) else None, config):
            logger.info("thread parent picture left out: %s bytes", size)
            continue
        try:
            data = await download(deps, item, config.max_image_bytes)
        except (DeliveryFailed, aiohttp.ClientError) as failure:
            logger.info("thread parent picture left out: %s", failure)
            continue
        pictures.append(Attachment(name, data, mime))
    return tuple(pictures)
