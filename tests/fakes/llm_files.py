"""The fake LLM server's multipart routes and its file store, as OpenAI answers them:
image edits and variations (b64 PNGs), audio translations (json, text, srt, vtt,
verbose_json with ``duration``), and /files (upload, list, retrieve, content, delete;
"No such File object" 404s). An upload follows the script's failures (``fail_before_output``
and the rest), checked after its fields, as the other routes do."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import partial
from itertools import count
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.llm_media import png

if TYPE_CHECKING:
    from tests.fakes.llm_server import FakeLLM

JSON = dict[str, Any]
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")


@dataclass
class FakeFiles:
    """What the provider holds: file id -> (object, bytes)."""

    objects: dict[str, JSON] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    _ids: count[int] = field(default_factory=lambda: count(1))


def mount(app: web.Application, llm: FakeLLM) -> FakeFiles:
    files = FakeFiles()
    app.router.add_post("/v1/images/edits", partial(images, llm, needs_prompt=True))
    app.router.add_post("/v1/images/variations", partial(images, llm, needs_prompt=False))
    app.router.add_post("/v1/audio/translations", partial(translations, llm))
    app.router.add_post("/v1/files", partial(upload, llm, files))
    app.router.add_get("/v1/files", partial(listing, files))
    app.router.add_get("/v1/files/{id}", partial(retrieve, llm, files))
    app.router.add_get("/v1/files/{id}/content", partial(content, llm, files))
    app.router.add_delete("/v1/files/{id}", partial(delete, llm, files))
    return files


async def read_form(llm: FakeLLM, request: web.Request) -> JSON:
    """Fields as text, files as {"filename", "content_type", "data"}; recorded."""
    form = await request.post()
    fields: JSON = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            fields[name] = {
                "filename": value.filename,
                "content_type": value.content_type,
                "data": value.file.read(),
            }
        else:
            fields[name] = value
    llm.record(request, fields)
    return fields


async def images(llm: FakeLLM, request: web.Request, *, needs_prompt: bool) -> web.Response:
    fields = await read_form(llm, request)
    image = fields.get("image") or fields.get("image[]")
    if not isinstance(image, dict):
        return llm.error(400, "Missing required parameter: 'image'.", "image")
    if needs_prompt and not fields.get("prompt"):
        return llm.error(400, "Missing required parameter: 'prompt'.", "prompt")
    refused = llm.check_model(fields)
    if refused is not None:
        return refused
    early = await llm.before_reply(request, llm.next_script())
    if early is not None:
        return early
    n = int(fields.get("n") or 1)
    seed = str(fields.get("prompt", "")) + image["filename"]
    data = [{"b64_json": base64.b64encode(png(f"{seed}{i}")).decode()} for i in range(n)]
    return web.json_response({"created": llm.now(), "data": data})


async def translations(llm: FakeLLM, request: web.Request) -> web.Response:
    fields = await read_form(llm, request)
    if not isinstance(fields.get("file"), dict):
        return llm.error(400, "Missing required parameter: 'file'.", "file")
    refused = llm.check_model(fields)
    if refused is not None:
        return refused
    script = llm.next_script()
    early = await llm.before_reply(request, script)
    if early is not None:
        return early
    text, fmt = script.transcript, fields.get("response_format", "json")
    if fmt == "text":
        return web.Response(text=text)
    if fmt in ("srt", "vtt"):
        head = "WEBVTT\n\n" if fmt == "vtt" else "1\n"
        return web.Response(text=f"{head}00:00:00.000 --> 00:00:02.500\n{text}\n")
    result: JSON = {"text": text}
    if fmt == "verbose_json":
        result = {"task": "translate", "language": "english", **result, "segments": []}
        if script.transcript_duration is not None:
            result["duration"] = script.transcript_duration
    return web.json_response(result)


def _missing(llm: FakeLLM, file_id: str) -> web.Response:
    return llm.error(404, f"No such File object: {file_id}", "id")


async def upload(llm: FakeLLM, files: FakeFiles, request: web.Request) -> web.Response:
    fields = await read_form(llm, request)
    upload = fields.get("file")
    if not isinstance(upload, dict):
        return llm.error(400, "Missing required parameter: 'file'.", "file")
    if fields.get("purpose") not in PURPOSES:
        return llm.error(400, f"'purpose' must be one of {', '.join(PURPOSES)}", "purpose")
    early = await llm.before_reply(request, llm.next_script())
    if early is not None:
        return early
    file_id = f"file-fake{next(files._ids):06d}"
    files.objects[file_id] = {
        "id": file_id,
        "object": "file",
        "bytes": len(upload["data"]),
        "created_at": llm.now(),
        "filename": upload["filename"],
        "purpose": fields["purpose"],
        "status": "processed",
        "status_details": None,
        "expires_at": None,
    }
    files.contents[file_id] = upload["data"]
    return web.json_response(files.objects[file_id])


async def listing(files: FakeFiles, request: web.Request) -> web.Response:
    purpose = request.query.get("purpose")
    data = [f for f in files.objects.values() if purpose in (None, f["purpose"])]
    data.sort(key=lambda f: f["id"], reverse=request.query.get("order", "desc") == "desc")
    limit = int(request.query.get("limit", "10000"))
    page = data[:limit]
    return web.json_response(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(data) > limit,
        }
    )


async def retrieve(llm: FakeLLM, files: FakeFiles, request: web.Request) -> web.Response:
    file_id = request.match_info["id"]
    llm.record(request, {"id": file_id})
    if file_id not in files.objects:
        return _missing(llm, file_id)
    return web.json_response(files.objects[file_id])


async def content(llm: FakeLLM, files: FakeFiles, request: web.Request) -> web.Response:
    file_id = request.match_info["id"]
    llm.record(request, {"id": file_id})
    if file_id not in files.contents:
        return _missing(llm, file_id)
    return web.Response(body=files.contents[file_id], content_type="application/octet-stream")


async def delete(llm: FakeLLM, files: FakeFiles, request: web.Request) -> web.Response:
    file_id = request.match_info["id"]
    llm.record(request, {"id": file_id})
    if file_id not in files.objects:
        return _missing(llm, file_id)
    del files.objects[file_id]
    del files.contents[file_id]
    return web.json_response({"id": file_id, "object": "file", "deleted": True})
