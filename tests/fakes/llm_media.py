"""The fake LLM server's media endpoints (images, speech, transcription) and the small,
valid files they return: a PNG and an Ogg/Opus stream built by hand (no Pillow)."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.llm_server import FakeLLM

MAX_AUDIO_BYTES = 25 * 1024 * 1024  # OpenAI's transcription upload limit
MAX_SPEECH_CHARS = 4096
_SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$")


def png(seed: str, side: int = 8) -> bytes:
    """A ``side``×``side`` solid-colour PNG whose colour depends on ``seed``."""
    rgb = hashlib.sha256(seed.encode()).digest()[:3]
    rows = b"".join(b"\x00" + rgb * side for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packets: list[bytes], sequence: int, granule: int, flags: int) -> bytes:
    lacing = b""
    for packet in packets:  # each packet here is < 255 bytes
        lacing += bytes([len(packet)])
    header = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, 0x5B0A, sequence, 0, len(packets))
    page = header + lacing + b"".join(packets)
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def ogg_opus(frames: int) -> bytes:
    """An Ogg/Opus stream of ``frames`` silent 20 ms frames (48 kHz granules)."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"fake" + struct.pack("<I", 0)
    silence = [b"\xf8\xff\xfe"] * max(1, min(frames, 250))
    return (
        _ogg_page([head], 0, 0, 0x02)
        + _ogg_page([tags], 1, 0, 0)
        + _ogg_page(silence, 2, 312 + 960 * len(silence), 0x04)
    )


async def images(llm: FakeLLM, request: web.Request) -> web.StreamResponse:
    body = await llm.json_body(request)
    if isinstance(body, web.Response):
        return body
    prompt, size = body.get("prompt"), body.get("size", "1024x1024")
    if not isinstance(prompt, str) or not prompt.strip():
        return llm.error(400, "Missing required parameter: 'prompt'.", "prompt")
    if size != "auto" and not _SIZE.match(str(size)):
        return llm.error(
            400, f"Invalid value: '{size}'. Supported values are: '1024x1024', ...", "size"
        )
    script = llm.next_script()
    early = await llm.before_reply(request, script)
    if early is not None:
        return early
    item = {"b64_json": base64.b64encode(png(prompt)).decode(), "revised_prompt": prompt}
    return web.json_response({"created": llm.now(), "data": [item]})


async def speech(llm: FakeLLM, request: web.Request) -> web.StreamResponse:
    body = await llm.json_body(request)
    if isinstance(body, web.Response):
        return body
    text, voice = body.get("input"), body.get("voice")
    if not isinstance(text, str) or not text:
        return llm.error(400, "Missing required parameter: 'input'.", "input")
    if len(text) > MAX_SPEECH_CHARS:
        return llm.error(400, f"'input' is longer than {MAX_SPEECH_CHARS} characters.", "input")
    if not isinstance(voice, str) or not voice:
        return llm.error(400, "Missing required parameter: 'voice'.", "voice")
    script = llm.next_script()
    early = await llm.before_reply(request, script)
    if early is not None:
        return early
    # About 15 characters a second of speech: longer text, longer audio.
    return web.Response(body=ogg_opus(len(text) * 50 // 15), content_type="audio/ogg")


async def transcriptions(llm: FakeLLM, request: web.Request) -> web.StreamResponse:
    form = await request.post()
    upload = form.get("file")
    fields: dict[str, object] = {k: v for k, v in form.items() if isinstance(v, str)}
    if isinstance(upload, web.FileField):
        data = upload.file.read()
        fields["file"] = {
            "filename": upload.filename,
            "content_type": upload.content_type,
            "data": data,
        }
    llm.record(request, fields)
    if not isinstance(upload, web.FileField):
        return llm.error(400, "Missing required parameter: 'file'.", "file")
    if not fields.get("model"):
        return llm.error(400, "Missing required parameter: 'model'.", "model")
    if len(data) > MAX_AUDIO_BYTES:
        return llm.error(413, f"Maximum content size limit ({MAX_AUDIO_BYTES}) exceeded.")
    script = llm.next_script()
    early = await llm.before_reply(request, script)
    if early is not None:
        return early
    fmt = fields.get("response_format", "json")
    if fmt == "text":
        return web.Response(text=script.transcript)
    result: dict[str, object] = {"text": script.transcript}
    if fmt == "verbose_json":
        result = {
            "task": "transcribe",
            "language": script.transcript_language,
            **result,
            "segments": [],
        }
        if script.transcript_duration is not None:
            result["duration"] = script.transcript_duration
    return web.json_response(result)
