"""Pictures and documents shared with a message: each refused before download when its
kind or declared size says so (privately, nothing charged), then read from Slack's file
host and sent with the words to the chat use case."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from bots.files import download_limit, refusal_before_download
from bots.language import translator
from bots.slack import mapping
from bots.slack.deps import SlackDeps
from bots.slack.handlers.chat import answer, refuse
from bots.slack.handlers.media import download
from bots.slack.mapping import Target
from bots.slack.sink import tell
from bots.streaming import DeliveryFailed
from core.services.requests import Attachment, Caller

logger = logging.getLogger(__name__)


async def answer_with_files(
    deps: SlackDeps,
    target: Target,
    caller: Caller,
    chat_id: str,
    text: str,
    shared: list[dict[str, Any]],
    slack_event: str | None,
) -> None:
    config = deps.core.config
    read: list[Attachment] = []
    for item in shared:
        name, mime = str(item.get("name") or "file"), str(item.get("mimetype") or "") or None
        size = item.get("size")
        declared = size if isinstance(size, int) else None
        refusal = refusal_before_download(name, mime, declared, config)
        if refusal is not None:
            await refuse(deps, target, await translator(deps.core, caller), refusal)
            return
        try:
            data = await download(deps, item, download_limit(name, mime, config))
        except (DeliveryFailed, aiohttp.ClientError) as failure:
            logger.warning("slack: shared file not read: %s", failure)
            t = await translator(deps.core, caller)
            await tell(deps.client, target, t("error.internal"), private=True)
            return
        read.append(Attachment(name, data, mime))
    event = mapping.event_id(slack_event)
    await answer(deps, target, caller, chat_id, text, event, attachments=tuple(read))
