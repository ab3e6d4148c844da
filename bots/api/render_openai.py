"""The upstream's objects as /v1 answers: a whole ``chat.completion`` as JSON, streamed
chunks as ``data:`` events, as compact as OpenAI writes them."""

from __future__ import annotations

import json

from aiohttp import web

from core.ports.passthrough import JSONObject


def dumps(obj: JSONObject) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def whole(obj: JSONObject, request_id: str) -> web.Response:
    return web.Response(
        text=dumps(obj),
        content_type="application/json",
        headers={REQUEST_ID: request_id},
    )


def chunk(obj: JSONObject) -> bytes:
    return f"data: {dumps(obj)}\n\n".encode()


# Which request of ours an answer was (the ledger's and the usage statistics' key); the
# completion's own ``id`` is the upstream's.
REQUEST_ID = "X-Request-Id"
