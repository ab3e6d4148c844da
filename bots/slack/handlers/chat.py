"""Chat answers: admit the request (every refusal is raised before anything is shown), then
stream the reply into a ``SlackSink`` through the shared ``stream_reply`` (outcome note,
relay, errors); ``/ask`` first shows the question, which opens the answer's thread."""

from __future__ import annotations

import logging

from bots.language import translator
from bots.slack import mapping, render
from bots.slack.deps import SlackDeps
from bots.slack.errors import mapped, refusal
from bots.slack.mapping import Target
from bots.slack.sink import SlackSink, tell
from bots.streaming import DeliveryFailed, relay
from bots.streaming.answer import Answered, one, stream_reply
from bots.voice_replies import spoken_answer
from core.errors import CoreError
from core.i18n import Translator
from core.observability import bind_request_id
from core.services.requests import Attachment, Caller, ChatRequest, Quote

logger = logging.getLogger(__name__)


async def refuse(deps: SlackDeps, target: Target, t: Translator, exc: CoreError) -> None:
    """The refusal, privately to the person; nothing at all for a redelivered event."""
    text = refusal(t, exc)
    if text is None:
        return
    try:
        await tell(deps.client, target, text, private=True)
    except DeliveryFailed as failure:
        logger.warning("slack: could not deliver an error message: %s", failure)


async def answer(
    deps: SlackDeps,
    target: Target,
    caller: Caller,
    chat_id: str,
    text: str,
    event_id: str | None,
    attachments: tuple[Attachment, ...] = (),
    *,
    quoted: tuple[Quote, ...] = (),
    voice_input: bool = False,
    retry_from: str | None = None,
) -> None:
    """Stream the answer to ``text`` (and its files) into ``target``; with ``retry_from``,
    the answer to the interrupted question asked in that chat (or a thread of it) instead.
    A spoken answer (``/voice``) follows as an audio file in the same place."""
    t = await translator(deps.core, caller)
    request = ChatRequest(
        caller=caller,
        chat_id=chat_id,
        text=text,
        event_id=event_id,
        attachments=attachments,
        retry=retry_from is not None,
        retry_from=retry_from,
        quoted=quoted,
        # Set with slash commands, which Slack runs at the channel: threads take them.
        settings_chat_id=mapping.chat_id(target.team_id, target.channel, None),
    )
    bind_request_id(request.request_id)
    try:
        reply = await deps.core.chat.start(request)
    except CoreError as exc:
        await refuse(deps, target, t, exc)
        return
    sink = SlackSink(
        deps.client,
        target,
        request_id=request.request_id,
        native=deps.native,
        stop_label=t("reply.stop_button"),
        interval_s=deps.settings.slack_edit_interval,
        on_native_refused=deps.streaming.refused,
    )
    pacer = deps.pacers.for_team(target.team_id, native=sink.limits.native_preview)
    answered = Answered()
    await stream_reply(reply, sink, pacer, t, answered=answered)
    try:
        voice = await spoken_answer(deps.core, request, reply, answered, voice_input=voice_input)
    except CoreError as exc:  # the spoken answer refused (credits, role): the text stands
        await refuse(deps, target, t, exc)
        return
    if voice is not None:
        await relay(one(voice), sink, pacer, with_stop=False)


async def ask(
    deps: SlackDeps,
    target: Target,
    caller: Caller,
    text: str,
    event_id: str | None,
    *,
    retry: bool = False,
) -> None:
    """``/ask``: the question shown by the bot opens a thread and the answer streams into
    it; the thread is the bot's, so follow-ups there need no mention. ``/retry`` (with
    ``retry``, ``text`` being the command as typed) does the same for the person's
    interrupted question in this channel or any thread of it."""
    if not text:
        t = await translator(deps.core, caller)
        await tell(deps.client, target, t("error.empty_input"), private=True)
        return
    async with mapped("chat.postMessage"):
        header = await deps.client.chat_postMessage(
            channel=target.channel, text=render.question(target.user_id, text)
        )
    ts = str(header["ts"])
    await deps.threads.remember(target.team_id, target.channel, ts)
    thread = ts if not target.is_dm or deps.native else None
    chat_id = mapping.chat_id(target.team_id, target.channel, ts)
    where = Target(target.team_id, target.channel, thread, target.user_id)
    retry_from = mapping.chat_id(target.team_id, target.channel, None) if retry else None
    await answer(deps, where, caller, chat_id, text, event_id, retry_from=retry_from)
