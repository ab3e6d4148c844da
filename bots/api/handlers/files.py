"""POST /ask/files: a question with pictures and documents, as a multipart upload (fields
``text``, ``model``, ``chat_id`` and one ``file`` part per file, up to ``MAX_FILES``). The
answer is the same as /ask's (JSON, or SSE with ``Accept: text/event-stream``). Each file
is read no further than its size setting allows, so an oversized one is refused while
it is still arriving; every refusal comes before anything is charged."""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import ValidationError

from bots.api import mapping, render
from bots.api import models_chat as mc
from bots.api.errors import ApiError, invalid
from bots.api.registry import Answers, Ctx, Endpoint, endpoint
from bots.api.sink import EventStream, relay, whole
from bots.files import download_limit, refusal_before_download
from core.errors import FileTooLarge
from core.i18n import Translator
from core.services.config import CoreConfig
from core.services.requests import Attachment
from core.types import Notice, TextDelta

MAX_FILES = 10
# The core's notes (a trimmed document) are in English, like the API's error messages.
NOTES = Translator("en")

ASK_FILES_OK: Answers = {
    200: (
        "The answer as JSON (an AskFilesResult: /ask's result plus `notices`, e.g. that a "
        "document was trimmed), or with `Accept: text/event-stream` as Server-Sent Events: "
        '`notice` events (`{"text"}`), `delta` events, then one `done` event (an AskResult)',
        {
            "application/json": mc.AskFilesResult,
            "text/event-stream": {"type": "string"},
        },
    )
}


def _note(notice: Notice) -> str:
    return notice.text or NOTES(notice.key, **notice.params)


async def _read_file(part: BodyPartReader, config: CoreConfig) -> Attachment:
    name = part.filename or "file"
    mime = part.headers.get("Content-Type")
    refusal = refusal_before_download(name, mime, None, config)  # the kind, before reading
    if refusal is not None:
        raise refusal
    limit = download_limit(name, mime, config)
    data = bytearray()
    while more := await part.read_chunk(2**16):
        data += more
        if len(data) > limit:
            raise FileTooLarge(size_mb=f"> {limit / 2**20:g}", limit_mb=f"{limit / 2**20:g}")
    return Attachment(name, bytes(data), mime)


async def _read_form(
    request: web.Request, config: CoreConfig
) -> tuple[mc.AskFilesFields, tuple[Attachment, ...]]:
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data")
    files: list[Attachment] = []
    fields: dict[str, str] = {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if (
                not isinstance(part, BodyPartReader)
                or part.name not in mc.AskFilesForm.model_fields
            ):
                raise ApiError(400, "bad_request", "unknown form field")
            if part.name != "file":
                fields[part.name] = (await part.read_chunk(100_000 * 4)).decode("utf-8")
            elif not part.filename:
                raise ApiError(400, "bad_request", "body.file: must be an uploaded file")
            elif len(files) == MAX_FILES:
                raise ApiError(400, "bad_request", f"body.file: at most {MAX_FILES} files")
            else:
                files.append(await _read_file(part, config))
    except (ValueError, AssertionError, LookupError, HttpProcessingError) as exc:
        raise ApiError(
            400, "bad_request", f"malformed multipart body: {type(exc).__name__}"
        ) from None
    if not files:
        raise ApiError(400, "bad_request", "body.file: required")
    try:
        return mc.AskFilesFields.model_validate(fields), tuple(files)
    except ValidationError as exc:
        raise invalid(exc, "body") from None


@endpoint(
    "POST",
    "/ask/files",
    tag="chat",
    form=mc.AskFilesForm,
    ok=ASK_FILES_OK,
    summary="Ask about pictures and documents (multipart; answers like /ask)",
)
async def ask_files(ctx: Ctx) -> web.StreamResponse:
    fields, files = await _read_form(ctx.request, ctx.core.config)
    request = mapping.ask_files_request(ctx.user.caller, fields, files)
    reply = await ctx.core.chat.start(request)
    async with reply:
        if not mapping.wants_events(ctx.request):
            notices: list[Notice] = []
            done = await whole(reply, notices)
            result = render.ask_result(request.request_id, done)
            notes = [_note(n) for n in notices]
            return render.json(mc.AskFilesResult(**result.model_dump(), notices=notes))
        stream = EventStream(ctx.request)
        await stream.open()

        async def on_delta(delta: TextDelta) -> None:
            await stream.write(render.sse("delta", mc.Delta(text=delta.text)))

        async def on_notice(notice: Notice) -> None:
            await stream.write(render.sse("notice", mc.Delta(text=_note(notice))))

        finished = await relay(reply, stream, on_delta, render.sse_error, on_notice)
        if finished is not None:
            await stream.write(render.sse("done", render.ask_result(request.request_id, finished)))
        return await stream.close()


def routes() -> list[Endpoint]:
    return [ask_files]
