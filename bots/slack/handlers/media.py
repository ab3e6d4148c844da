"""Paid media: ``/image`` and ``/tts`` uploaded as files, and a shared audio clip
transcribed (its own event id), shown, then answered like a message."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from bots.language import translator
from bots.slack import mapping
from bots.slack.deps import SlackDeps
from bots.slack.handlers.chat import answer, refuse
from bots.slack.mapping import Target
from bots.slack.sink import SlackSink, tell
from bots.streaming import DeliveryFailed
from core.errors import CoreError
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.requests import Caller, ImageRequest, SpeechRequest, TranscriptionRequest
from core.types import AudioReady, ImageReady

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"


async def image_or_speech(
    deps: SlackDeps,
    kind: str,
    target: Target,
    caller: Caller,
    t: Translator,
    text: str,
    event_id: str | None,
) -> None:
    """``/image`` or ``/tts``; core refusals propagate to the command handler."""
    chat_id = mapping.chat_id(target.team_id, target.channel, None)
    item: ImageReady | AudioReady
    if kind == "image":
        image = ImageRequest(caller=caller, chat_id=chat_id, prompt=text, event_id=event_id)
        bind_request_id(image.request_id)
        item = await deps.core.media.image(image)
    else:
        speech = SpeechRequest(caller=caller, chat_id=chat_id, text=text, event_id=event_id)
        bind_request_id(speech.request_id)
        item = await deps.core.media.speech(speech)
    sink = SlackSink(deps.client, target, request_id="media", native=False)
    try:
        await sink.send_media(item)
    except DeliveryFailed as failure:
        logger.warning("slack: %s upload failed: %s", kind, failure)
        await tell(deps.client, target, t("error.internal"), private=True)


async def transcribe_and_answer(
    deps: SlackDeps,
    target: Target,
    caller: Caller,
    chat_id: str,
    item: dict[str, object],
    slack_event: str | None,
) -> None:
    """A shared clip: transcribe it, show the words, answer them."""
    t = await translator(deps.core, caller)
    try:
        audio = await download(deps, item)
        request = TranscriptionRequest(
            caller=caller,
            chat_id=chat_id,
            audio=audio,
            filename=str(item.get("name") or "audio.ogg"),
            declared_seconds=mapping.audio_seconds(item),
            event_id=mapping.event_id(slack_event, "stt"),
        )
        bind_request_id(request.request_id)
        transcript, _cost = await deps.core.media.transcribe(request)
    except CoreError as exc:
        await refuse(deps, target, t, exc)
        return
    except (DeliveryFailed, aiohttp.ClientError) as failure:
        logger.warning("slack: audio file not read: %s", failure)
        await tell(deps.client, target, t("error.internal"), private=True)
        return
    await tell(deps.client, target, t("reply.transcript", text=transcript.text), private=False)
    event = mapping.event_id(slack_event)
    await answer(deps, target, caller, chat_id, transcript.text, event, voice_input=True)


async def download(deps: SlackDeps, item: dict[str, object], limit: int | None = None) -> bytes:
    """A shared file's bytes, read no further than the core's size limit allows (the
    core then refuses an oversized file with its own message)."""
    url = str(item.get("url_private_download") or item.get("url_private") or "")
    if not url or not _trusted(deps.settings.slack_api_url, url):
        raise DeliveryFailed("slack: file has no trusted download URL")
    limit = (limit if limit is not None else deps.core.config.max_audio_bytes) + 1
    token = deps.client.token or ""
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


def _trusted(api_url: str | None, url: str) -> bool:
    """The bot token goes only to Slack's file host (or the configured API server)."""
    host = urlsplit(url).hostname or ""
    api = urlsplit(api_url or DEFAULT_API_URL).hostname or ""
    return host == api or host == "files.slack.com" or host.endswith(".slack.com")
