"""The conversation: a message streamed back as Server-Sent Events (the same admission,
stream, Stop signal and settlement as ``/ask`` and the messengers), typed commands from the
shared set, pictures, speech, audio transcription and the recent history."""

from __future__ import annotations

import json

from aiohttp import web

from bots.api.sink import EventStream, relay
from bots.api.web import bodies, views
from bots.api.web.account import WEB_CHAT, signed_in
from bots.api.web.session import WebUser
from bots.commands import CommandContext, run_command
from bots.streaming.answer import note_keys
from bots.views import error_text
from core.errors import CoreError
from core.i18n import Translator
from core.money import format_credits
from core.observability import bind_request_id
from core.services import Core
from core.services.requests import ChatRequest, ImageRequest, SpeechRequest, TranscriptionRequest
from core.types import TextDelta

HISTORY_SIZE = 20


def split_command(text: str) -> tuple[str, str] | None:
    """``/image a cat`` → ("image", "a cat"); None for a plain message."""
    if not text.startswith("/"):
        return None
    name, _, args = text[1:].partition(" ")
    return name.lower(), args.strip()


def event(name: str, **data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def send(request: web.Request) -> web.StreamResponse:
    core, user, t = await signed_in(request)
    body = await bodies.read(request, bodies.Send)
    parsed = split_command(body.text.strip())
    try:
        if parsed is None or parsed[0] == "ask":
            text = body.text if parsed is None else parsed[1]
            return await _chat(request, core, user, t, text, body.model)
        return await _command(core, user, t, *parsed)
    except CoreError as exc:
        return views.error(t, exc)


async def _chat(
    request: web.Request, core: Core, user: WebUser, t: Translator, text: str, model: str | None
) -> web.StreamResponse:
    chat = ChatRequest(caller=user.caller, chat_id=WEB_CHAT, text=text, model=model or None)
    bind_request_id(chat.request_id)
    reply = await core.chat.start(chat)  # refusals raise here: nothing opened, nothing charged
    stream = EventStream(request)
    async with reply:
        await stream.open()
        await stream.write(event("start", request_id=chat.request_id))

        async def on_delta(delta: TextDelta) -> None:
            await stream.write(event("delta", text=delta.text))

        def on_error(exc: CoreError) -> bytes:
            return event("error", text=error_text(t, exc))

        done = await relay(reply, stream, on_delta, on_error)
    # Out of the block the reply is settled: the balance below includes this answer.
    account = await core.conversations.balance(user.caller)
    if done is not None:
        await stream.write(
            event(
                "done",
                text=done.text,
                note="\n".join(t(key) for key in note_keys(done)),
                charged=t("reply.charged", credits=format_credits(done.credits)),
                balance=views.balance_text(t, account),
            )
        )
    else:
        await stream.write(event("balance", balance=views.balance_text(t, account)))
    return await stream.close()


async def _command(core: Core, user: WebUser, t: Translator, name: str, args: str) -> web.Response:
    caller = user.caller
    if name == "image":
        image = await core.media.image(ImageRequest(caller, WEB_CHAT, prompt=args))
        return await _with_balance(
            core, user, t, "image", image.prompt, image.credits, views.media(image.data, image.mime)
        )
    if name == "tts":
        speech = await core.media.speech(SpeechRequest(caller, WEB_CHAT, text=args))
        return await _with_balance(
            core, user, t, "audio", "", speech.credits, views.media(speech.data, speech.mime)
        )
    answer = await run_command(CommandContext(core, caller, WEB_CHAT), name, args)
    if answer is None:
        return views.reply("notice", t("cmd.help"))
    extra = views.media(answer.image, "image/png") if answer.image else {}
    account = await core.conversations.balance(caller)
    # /lang may have changed the language: the page reloads its words from the session.
    return views.reply(
        "image" if answer.image else "notice",
        answer.text,
        balance=views.balance_text(t, account),
        command=name,
        **extra,
    )


async def _with_balance(
    core: Core, user: WebUser, t: Translator, kind: str, text: str, credits: int, media: views.JSON
) -> web.Response:
    account = await core.conversations.balance(user.caller)
    return views.reply(
        kind,
        text,
        charged=t("reply.charged", credits=format_credits(credits)),
        balance=views.balance_text(t, account),
        **media,
    )


async def stop(request: web.Request) -> web.StreamResponse:
    """The Stop button: the same flag as the messengers' Stop, seen by whichever worker
    streams the answer; the answer ends as "stopped", charged for what was produced. The
    request id is a random 128-bit value only the asker's page was told."""
    core, _user, _t = await signed_in(request)
    body = await bodies.read(request, bodies.Stop)
    await core.chat.stop(body.request_id)
    return views.reply("stopping")


async def history(request: web.Request) -> web.StreamResponse:
    core, user, t = await signed_in(request)
    try:
        items = await core.admin.messages(user.principal, None, HISTORY_SIZE)
    except CoreError as exc:
        return views.error(t, exc)
    exchanges = [{"question": e.question, "answer": e.answer} for e in reversed(items)]
    return web.json_response({"items": exchanges}, headers=views.NO_STORE)


async def transcribe(request: web.Request) -> web.StreamResponse:
    core, user, t = await signed_in(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise web.HTTPBadRequest(text="send the audio as the form field 'file'")
    audio = upload.file.read()
    job = TranscriptionRequest(user.caller, WEB_CHAT, audio=audio, filename=upload.filename)
    try:
        transcript, credits = await core.media.transcribe(job)
    except CoreError as exc:
        return views.error(t, exc)
    return await _with_balance(
        core, user, t, "notice", t("reply.transcript", text=transcript.text), credits, {}
    )
