"""The Web API methods of ``FakeSlack``: each takes the server and the call's arguments
and returns the fields of an ``ok`` answer, or raises ``SlackError`` / ``RateLimited``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.slack_server import FakeSlack, Message

STREAM_SCOPE = "chat:write"  # what a real answer names in "needed"


class SlackError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class RateLimited(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"ratelimited {seconds}")
        self.seconds = seconds


def _need(args: dict[str, Any], *names: str) -> None:
    for name in names:
        if not args.get(name):
            raise SlackError("channel_not_found" if name == "channel" else "invalid_arguments")


def _blocks(raw: Any) -> list[Any] | None:
    if raw is None or raw == "":
        return None
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list):
        raise SlackError("invalid_blocks")
    return value


def _message_view(fake: FakeSlack, m: Message) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "user": m.user}
    if m.thread_ts:
        view["thread_ts"] = m.thread_ts
    if m.bot_id:
        view["bot_id"] = m.bot_id
    if m.blocks is not None:
        view["blocks"] = m.blocks
    if m.files:  # as Slack shows a file_share message: its file objects, download URLs too
        view["files"] = m.files
    return view


def auth_test(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://fake.slack.com/",
        "team": "Fake Team",
        "user": "switchboard",
        "team_id": fake.team_id,
        "user_id": fake.bot_user_id,
        "bot_id": fake.bot_id,
        "is_enterprise_install": False,
    }


def _check_text(fake: FakeSlack, text: str) -> None:
    if len(text) > fake.max_text:
        raise SlackError("msg_too_long")


def post_message(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "channel")
    text, blocks = str(args.get("text") or ""), _blocks(args.get("blocks"))
    if not text and not blocks:
        raise SlackError("no_text")
    _check_text(fake, text)
    from tests.fakes.slack_server import Message

    ts = fake.next_ts()
    message = Message(
        args["channel"],
        ts,
        text,
        fake.bot_user_id,
        args.get("thread_ts") or None,
        blocks,
        bot_id=fake.bot_id,
    )
    fake.messages[(message.channel, ts)] = message
    return {"channel": message.channel, "ts": ts, "message": _message_view(fake, message)}


def update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "channel", "ts")
    wait = fake.tier3_allows(fake.team_id)
    if wait > 0:
        raise RateLimited(wait)
    message = fake.messages.get((args["channel"], args["ts"]))
    if message is None:
        raise SlackError("message_not_found")
    if message.user != fake.bot_user_id:
        raise SlackError("cant_update_message")
    text = str(args.get("text") or "")
    _check_text(fake, text)
    message.text, message.blocks = text, _blocks(args.get("blocks"))
    message.edits += 1
    return {"channel": message.channel, "ts": message.ts, "text": text}


def _streaming(fake: FakeSlack, args: dict[str, Any]) -> Message:
    if not fake.streaming_scope:
        raise SlackError("missing_scope")
    _need(args, "channel", "ts")
    message = fake.messages.get((args["channel"], args["ts"]))
    if message is None:
        raise SlackError("message_not_found")
    if not message.streaming or time.monotonic() - message.stream_started > fake.stream_ttl_s:
        message.streaming = False
        raise SlackError("message_not_in_streaming_state")
    return message


def _stream_text(fake: FakeSlack, args: dict[str, Any], *, required: bool) -> str:
    text = str(args.get("markdown_text") or "")
    if required and not text:
        raise SlackError("invalid_arguments")
    if len(text) > fake.stream_chunk_max:
        raise SlackError("msg_too_long")
    return text


def start_stream(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    if not fake.streaming_scope:
        raise SlackError("missing_scope")
    _need(args, "channel")
    if not args.get("thread_ts"):
        raise SlackError("invalid_thread_ts")  # streamed messages must be thread replies
    if str(args["channel"]).startswith("C") and not args.get("recipient_user_id"):
        raise SlackError("invalid_arguments")  # a channel stream names its recipient
    text = _stream_text(fake, args, required=False)
    from tests.fakes.slack_server import Message

    ts = fake.next_ts()
    message = Message(
        args["channel"],
        ts,
        text,
        fake.bot_user_id,
        args["thread_ts"],
        streaming=True,
        stream_started=time.monotonic(),
        bot_id=fake.bot_id,
    )
    fake.messages[(message.channel, ts)] = message
    return {"channel": message.channel, "ts": ts}


def append_stream(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    message = _streaming(fake, args)
    message.text += _stream_text(fake, args, required=True)
    message.edits += 1
    return {"channel": message.channel, "ts": message.ts}


def stop_stream(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    message = _streaming(fake, args)
    message.text += _stream_text(fake, args, required=False)
    message.blocks = _blocks(args.get("blocks"))
    message.streaming = False
    return {"channel": message.channel, "ts": message.ts, "message": _message_view(fake, message)}


def post_ephemeral(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "channel", "user")
    if not args.get("text") and not args.get("blocks"):
        raise SlackError("no_text")
    _check_text(fake, str(args.get("text") or ""))
    entry = {**args, "blocks": _blocks(args.get("blocks")), "message_ts": fake.next_ts()}
    fake.ephemerals.append(entry)
    return {"message_ts": entry["message_ts"]}


def get_upload_url(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "filename", "length")
    from tests.fakes.slack_server import StoredFile

    file_id = fake.next_id("F")
    fake.files[file_id] = StoredFile(file_id, args["filename"], int(args["length"]))
    return {"upload_url": f"{fake.root}/upload/{file_id}", "file_id": file_id}


def complete_upload(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "files")
    items = json.loads(args["files"]) if isinstance(args["files"], str) else args["files"]
    done = []
    for item in items:
        stored = fake.files.get(item.get("id", ""))
        if stored is None or len(stored.data) != stored.length or not stored.data:
            raise SlackError("file_not_found")
        stored.title = item.get("title") or stored.filename
        stored.channel = args.get("channel_id") or None
        stored.thread_ts = args.get("thread_ts") or None
        done.append({"id": stored.id, "name": stored.filename, "title": stored.title})
    return {"files": done}


def users_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    user = fake.users.get(str(args.get("user") or ""))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user}


def conversations_open(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """A DM with one person: Slack answers with the im channel (always the same one)."""
    _need(args, "users")
    users = str(args["users"]).split(",")
    if len(users) != 1 or users[0] not in fake.users:
        raise SlackError("user_not_found")
    return {"channel": {"id": f"D{users[0]}", "is_im": True}}


def replies(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    _need(args, "channel", "ts")
    channel, ts = args["channel"], args["ts"]
    parent = fake.messages.get((channel, ts))
    if parent is None:
        raise SlackError("thread_not_found")
    thread = [m for m in fake.messages.values() if m.channel == channel and m.thread_ts == ts]
    ordered = [parent, *sorted((m for m in thread if m is not parent), key=lambda m: m.ts)]
    limit = int(args.get("limit") or 1000)
    return {"messages": [_message_view(fake, m) for m in ordered[:limit]], "has_more": False}


METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.startStream": start_stream,
    "chat.appendStream": append_stream,
    "chat.stopStream": stop_stream,
    "chat.postEphemeral": post_ephemeral,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
    "users.info": users_info,
    "conversations.replies": replies,
    "conversations.open": conversations_open,
}
