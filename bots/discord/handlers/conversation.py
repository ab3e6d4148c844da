"""Conversation outside slash commands: every message in a DM, and in a server channel
the messages that mention the bot or reply to it. Pictures and documents attached go with
the words to the model (each refused before download when its kind or size says so);
voice messages and audio attachments are transcribed, the transcript shown, and then
answered. Each person has their own context per channel."""

from __future__ import annotations

import logging
from functools import partial

import discord
from discord.ext import commands

from bots.discord import mapping
from bots.discord.deps import Deps
from bots.discord.errors import message_for, tell_message
from bots.discord.handlers import answer
from bots.discord.sink import ChannelSink
from bots.files import is_picture_or_document, refusal_before_download
from bots.language import translator
from core.errors import UnsupportedFile
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.attachments import FileKind, kind_of
from core.services.config import CoreConfig
from core.services.requests import (
    Attachment,
    Caller,
    ChatRequest,
    Quote,
    TranscriptionRequest,
)
from core.types import Notice

logger = logging.getLogger(__name__)


class Conversation(commands.Cog):
    def __init__(self, deps: Deps, client: discord.Client) -> None:
        self.deps = deps
        self.client = client  # for the bot's own user, known once logged in

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.bot or not mapping.addressed_to(message, me):
            return
        text = mapping.strip_mention(message.content, me.id)
        audio = mapping.audio_attachment(message)
        if not text and audio is None and not message.attachments:
            return  # a bare mention: nothing to answer
        await message.channel.typing()  # the nearest thing to a deadline a message has
        guild_id = message.guild.id if message.guild is not None else None
        caller = mapping.caller(message.author, None, message.channel.id, guild_id)
        t = await translator(self.deps.core, caller)
        before: tuple[Notice, ...] = ()
        files: tuple[Attachment, ...] = ()
        usable = [
            a for a in message.attachments if is_picture_or_document(a.filename, a.content_type)
        ]
        if audio is None and usable:
            read = await self._read_files(message, usable, caller, t)
            if read is None:
                return
            files = read
        elif audio is not None or (not text and message.attachments):
            spoken = await self._transcribe(message, audio, caller, t)
            if spoken is None:
                return
            before = (Notice(key="reply.transcript", text=t("reply.transcript", text=spoken)),)
            text = f"{text}\n\n{spoken}".strip()
        request = ChatRequest(
            caller=caller,
            chat_id=mapping.chat_id(message.channel.id),
            event_id=mapping.message_event(message.id),
            text=text,
            quoted=await reply_chain(
                message, me.id, self.deps.core.config.quote_depth, self.deps.core.config
            ),
            attachments=files,
        )
        bind_request_id(request.request_id)
        sink = ChannelSink(
            message.channel,
            message.channel.id,
            request_id=request.request_id,
            reply_to=message,
            stop_label=t("reply.stop_button"),
            interval_s=self.deps.edit_interval_s,
        )
        report = partial(tell_message, message)
        voice_input = audio is not None
        await answer.chat(
            self.deps, request, sink, report, t, before=before, voice_input=voice_input
        )

    async def _read_files(
        self,
        message: discord.Message,
        usable: list[discord.Attachment],
        caller: Caller,
        t: Translator,
    ) -> tuple[Attachment, ...] | None:
        """The files' bytes from the CDN, or None after telling the person why not. The
        declared size is checked first: a 100-MB file is never fetched."""
        config = self.deps.core.config
        for item in usable:
            refusal = refusal_before_download(item.filename, item.content_type, item.size, config)
            if refusal is not None:
                await tell_message(message, message_for(t, refusal, "file", str(caller.identity)))
                return None
        return tuple([Attachment(a.filename, await a.read(), a.content_type) for a in usable])

    async def _transcribe(
        self,
        message: discord.Message,
        audio: discord.Attachment | None,
        caller: Caller,
        t: Translator,
    ) -> str | None:
        report = partial(tell_message, message)
        refusal = (
            UnsupportedFile()
            if audio is None
            else mapping.audio_refusal(audio, self.deps.max_audio_bytes)
        )
        if refusal is not None:
            await report(message_for(t, refusal, "voice", str(caller.identity)))
            return None
        assert audio is not None
        request = TranscriptionRequest(
            caller=caller,
            chat_id=mapping.chat_id(message.channel.id),
            event_id=mapping.message_event(message.id, "stt"),
            audio=await audio.read(),
            filename=audio.filename,
            declared_seconds=audio.duration,
        )
        bind_request_id(request.request_id)
        return await answer.transcribe(self.deps, request, report, t)


async def quoted_pictures(found: discord.Message, config: CoreConfig) -> tuple[Attachment, ...]:
    """A replied-to message's image attachments, for a vision model. The person did not
    send them with this question: one too large (declared size) or not fetched is left
    out (logged), never a refusal."""
    pictures: list[Attachment] = []
    for item in found.attachments:
        if kind_of(item.filename, item.content_type) is not FileKind.IMAGE:
            continue
        if refusal_before_download(item.filename, item.content_type, item.size, config):
            logger.info("quoted picture left out: %s bytes", item.size)
            continue
        try:
            pictures.append(Attachment(item.filename, await item.read(), item.content_type))
        except discord.HTTPException as error:
            logger.info("quoted picture left out: not fetched (%s)", error.status)
    return tuple(pictures)


async def reply_chain(
    message: discord.Message, me: int, depth: int, config: CoreConfig
) -> tuple[Quote, ...]:
    """The messages this one replies to, nearest first, up to ``depth``: Discord hands
    the first one with the message, the older ones are fetched (one call each). Their
    image attachments go with them."""
    quotes: list[Quote] = []
    current = message
    while len(quotes) < depth and current.reference is not None:
        reference = current.reference
        found = reference.resolved if isinstance(reference.resolved, discord.Message) else None
        if found is None and reference.message_id is not None:
            try:
                found = await current.channel.fetch_message(reference.message_id)
            except discord.HTTPException as error:  # deleted, or no access: stop the chain
                logger.info("replied-to message not fetched: %s", error.status)
        if found is None:
            break
        author = "assistant" if found.author.id == me else found.author.display_name
        pictures = await quoted_pictures(found, config)
        if found.content.strip() or pictures:
            text = mapping.strip_mention(found.content, me)
            quotes.append(Quote(text=text, author=author, images=pictures))
        current = found
    return tuple(quotes)
