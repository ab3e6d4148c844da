"""Typed lines -> core types: who the console user is, commands and requests."""

from __future__ import annotations

import getpass
import os

from core.observability import bind_request_id
from core.services.requests import (
    Attachment,
    Caller,
    ChatRequest,
    ImageRequest,
    SpeechRequest,
)
from core.types import IdentityKey

CHAT_ID = "console"


def console_caller() -> Caller:
    user = os.environ.get("SWITCHBOARD_CONSOLE_USER") or getpass.getuser()
    locale = (os.environ.get("LC_ALL") or os.environ.get("LANG") or "").split(".")[0] or None
    return Caller(IdentityKey("console", "", user), display_name=user, locale=locale)


def split_command(line: str) -> tuple[str, str] | None:
    """``/model gpt-4o`` → ("model", "gpt-4o"); None for a plain message."""
    if not line.startswith("/"):
        return None
    name, _, args = line[1:].partition(" ")
    return name.lower(), args.strip()


def split_path(args: str) -> tuple[str, str]:
    """``"my file.pdf" what is it`` → ("my file.pdf", "what is it"); unquoted, the path
    ends at the first space."""
    args = args.strip()
    if args[:1] in {'"', "'"}:
        path, _, rest = args[1:].partition(args[0])
        return path, rest.strip()
    path, _, rest = args.partition(" ")
    return path, rest.strip()


def chat_request(
    caller: Caller, text: str, attachments: tuple[Attachment, ...] = (), *, retry: bool = False
) -> ChatRequest:
    request = ChatRequest(
        caller=caller, chat_id=CHAT_ID, text=text, attachments=attachments, retry=retry
    )
    bind_request_id(request.request_id)
    return request


def image_request(caller: Caller, prompt: str) -> ImageRequest:
    request = ImageRequest(caller=caller, chat_id=CHAT_ID, prompt=prompt)
    bind_request_id(request.request_id)
    return request


def speech_request(caller: Caller, text: str) -> SpeechRequest:
    request = SpeechRequest(caller=caller, chat_id=CHAT_ID, text=text)
    bind_request_id(request.request_id)
    return request
