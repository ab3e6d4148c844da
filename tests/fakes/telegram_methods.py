"""The Bot API methods of the fake Telegram server, with the real checks and errors."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.telegram_html import EntityParseError, parse_html, utf16_len

if TYPE_CHECKING:
    from tests.fakes.telegram_server import Call, FakeTelegramServer

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _chat_id(params: dict[str, Any]) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        raise _bad("chat not found") from None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1"}


def _formatted(
    server: FakeTelegramServer, params: dict[str, Any], key: str, limit: int
) -> tuple[str, list[dict[str, Any]]]:
    raw = str(params.get(key, ""))
    mode = str(params.get("parse_mode") or "").lower()
    entities: list[dict[str, Any]] = list(params.get("entities") or [])
    text = raw
    if mode == "html":
        if server.reject_entities:
            raise _bad('can\'t parse entities: Unsupported start tag "b" at byte offset 0')
        try:
            text, entities = parse_html(raw)
        except EntityParseError as error:
            raise _bad(f"can't parse entities: {error}") from None
    elif mode:
        raise _bad(f"unsupported parse_mode {mode}")
    if key == "text" and not text.strip():
        raise _bad("message text is empty")
    if utf16_len(text) > limit:
        raise _bad("message is too long" if key == "text" else "message caption is too long")
    return text, entities


def _new_message(
    server: FakeTelegramServer, params: dict[str, Any], chat_id: int
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": server.next_message_id(chat_id),
        "date": int(time.time()),
        "chat": server.chat(chat_id),
        "from": server.bot_user,
    }
    if params.get("message_thread_id"):
        message["message_thread_id"] = int(params["message_thread_id"])
        message["is_topic_message"] = True
    reply = params.get("reply_parameters") or {}
    if reply.get("message_id"):
        original = server.messages.get((chat_id, int(reply["message_id"])))
        if original is not None:
            message["reply_to_message"] = {
                k: v for k, v in original.items() if k != "reply_to_message"
            }
        elif not _truthy(reply.get("allow_sending_without_reply")):
            raise _bad("message to be replied not found")
    if params.get("reply_markup"):
        message["reply_markup"] = params["reply_markup"]
    return message


def _store(server: FakeTelegramServer, message: dict[str, Any]) -> dict[str, Any]:
    server.messages[(message["chat"]["id"], message["message_id"])] = message
    return message


async def send_message(server: FakeTelegramServer, call: Call) -> Any:
    chat_id = _chat_id(call.params)
    text, entities = _formatted(server, call.params, "text", MAX_TEXT)
    message = _new_message(server, call.params, chat_id)
    server.check_flood(chat_id)
    message["text"] = text
    if entities:
        message["entities"] = entities
    return _store(server, message)


def _existing(server: FakeTelegramServer, params: dict[str, Any], action: str) -> dict[str, Any]:
    chat_id = _chat_id(params)
    message = server.messages.get((chat_id, int(params.get("message_id") or 0)))
    if message is None:
        raise _bad(f"message to {action} not found")
    return message


async def edit_message_text(server: FakeTelegramServer, call: Call) -> Any:
    message = _existing(server, call.params, "edit")
    text, entities = _formatted(server, call.params, "text", MAX_TEXT)
    markup = call.params.get("reply_markup")
    if (
        message.get("text") == text
        and message.get("entities", []) == entities
        and message.get("reply_markup") == markup
    ):
        raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    server.check_flood(message["chat"]["id"])
    message["text"] = text
    message["edit_date"] = int(time.time())
    _set(message, "entities", entities)
    _set(message, "reply_markup", markup)
    return message


async def edit_message_reply_markup(server: FakeTelegramServer, call: Call) -> Any:
    message = _existing(server, call.params, "edit")
    markup = call.params.get("reply_markup")
    if message.get("reply_markup") == markup:
        raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    server.check_flood(message["chat"]["id"])
    _set(message, "reply_markup", markup)
    return message


def _set(message: dict[str, Any], key: str, value: Any) -> None:
    if value:
        message[key] = value
    else:
        message.pop(key, None)


async def send_message_draft(server: FakeTelegramServer, call: Call) -> Any:
    if not server.drafts_enabled:
        raise ApiError(404, "Not Found")
    chat_id = _chat_id(call.params)
    if server.chat(chat_id)["type"] != "private":
        raise _bad("TEXTDRAFT_PEER_INVALID")
    draft_id = int(call.params.get("draft_id") or 0)
    if not draft_id:
        raise _bad("draft_id must be non-zero")
    if call.params.get("text"):  # an empty draft shows "Thinking…"
        _formatted(server, call.params, "text", MAX_TEXT)
    server.check_flood(chat_id)
    server.drafts[(chat_id, draft_id)] = str(call.params.get("text") or "")
    return True


async def _send_file(
    server: FakeTelegramServer, call: Call, field: str, folder: str, ext: str
) -> dict[str, Any]:
    chat_id = _chat_id(call.params)
    reference = str(call.params.get(field, ""))
    data = call.files.get(reference.removeprefix("attach://"))
    if data is None:
        raise _bad(f"there is no {field} in the request")
    caption, entities = _formatted(server, call.params, "caption", MAX_CAPTION)
    message = _new_message(server, call.params, chat_id)
    server.check_flood(chat_id)
    file_id, _ = server.store_file(data, folder, ext)
    info = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data)}
    if field == "photo":
        message["photo"] = [{**info, "width": 512, "height": 512}]
    elif field == "document":
        message["document"] = {**info, "file_name": f"{file_id}.{ext}"}
    else:
        message["voice"] = {**info, "duration": 1, "mime_type": "audio/ogg"}
    if caption:
        message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
    return _store(server, message)


async def send_photo(server: FakeTelegramServer, call: Call) -> Any:
    return await _send_file(server, call, "photo", "photos", "jpg")


async def send_voice(server: FakeTelegramServer, call: Call) -> Any:
    return await _send_file(server, call, "voice", "voice", "oga")


async def send_document(server: FakeTelegramServer, call: Call) -> Any:
    return await _send_file(server, call, "document", "documents", "md")


async def get_file(server: FakeTelegramServer, call: Call) -> Any:
    file_id = str(call.params.get("file_id", ""))
    if file_id not in server.files:
        raise _bad("invalid file_id")
    path, data = server.files[file_id]
    if len(data) > MAX_DOWNLOAD:
        raise _bad("file is too big")
    return {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}",
        "file_size": len(data),
        "file_path": path,
    }


async def get_updates(server: FakeTelegramServer, call: Call) -> Any:
    if server.webhook_url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        )
    offset = call.params.get("offset")
    timeout = float(call.params.get("timeout") or 0)
    return await server.wait_updates(int(offset) if offset is not None else None, timeout)


async def delete_message(server: FakeTelegramServer, call: Call) -> Any:
    message = _existing(server, call.params, "delete")
    del server.messages[(message["chat"]["id"], message["message_id"])]
    return True


async def set_webhook(server: FakeTelegramServer, call: Call) -> Any:
    server.webhook_url = str(call.params.get("url", ""))
    return True


async def delete_webhook(server: FakeTelegramServer, call: Call) -> Any:
    server.webhook_url = ""
    return True


async def set_my_commands(server: FakeTelegramServer, call: Call) -> Any:
    scope = call.params.get("scope") or {"type": "default"}
    key = f"{scope.get('type')}:{scope.get('chat_id', '')}"
    server.commands[key] = list(call.params.get("commands") or [])
    return True


async def answer_callback_query(server: FakeTelegramServer, call: Call) -> Any:
    server.callback_answers.append(dict(call.params))
    return True


async def get_me(server: FakeTelegramServer, call: Call) -> Any:
    return server.bot_user


async def send_chat_action(server: FakeTelegramServer, call: Call) -> Any:
    _chat_id(call.params)
    return True


Handler = Callable[["FakeTelegramServer", "Call"], Awaitable[Any]]
METHODS: dict[str, Handler] = {
    "getme": get_me,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "setmycommands": set_my_commands,
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "sendmessagedraft": send_message_draft,
    "sendchataction": send_chat_action,
    "sendphoto": send_photo,
    "sendvoice": send_voice,
    "senddocument": send_document,
    "getfile": get_file,
    "answercallbackquery": answer_callback_query,
    "deletemessage": delete_message,
}
