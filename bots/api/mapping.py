"""HTTP requests → core inputs: callers, addresses, OpenAI messages, request hashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from core.services.profile import ProfileChange


def client_address(request: web.Request) -> str:
    # The peer address only: a forwarded-for header is the client's to forge.
    return request.remote or "unknown"


def profile_change(body: dict[str, Any]) -> ProfileChange:
    return ProfileChange(
        username=body.get("username"),
        password=body.get("password"),
        current_password=body.get("current_password"),
        language=body.get("language"),
        language_set="language" in body,
    )


def request_hash(*parts: object) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _content(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part["text"] for part in content)


def prompt_from_messages(messages: list[dict[str, Any]]) -> str:
    """The core takes one question (it keeps context itself); an OpenAI client sends the
    whole conversation, so earlier turns are given to the model as a transcript."""
    if len(messages) == 1:
        return _content(messages[0])
    lines = [f"[{m['role']}]\n{_content(m)}" for m in messages[:-1]]
    last = messages[-1]
    return "\n\n".join([*lines, f"[{last['role']}]\n{_content(last)}"])
