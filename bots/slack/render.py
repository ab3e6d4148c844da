"""How the bot's output looks on Slack: interim text with the Stop button as blocks, the
final text as mrkdwn, the /ask question header, names and titles of uploaded files."""

from __future__ import annotations

from typing import Any

from bots.files import extension_for
from bots.slack.mrkdwn import escape, markdown_to_mrkdwn
from core.types import AudioReady, ImageReady

SECTION_MAX = 3_000  # characters per section block
HEADER_MAX = 3_000
STOP_ACTION = "stop"
STOP_PREFIX = "stop:"
BROADCAST_ACTION = "broadcast_send"


def broadcast_blocks(text: str, draft_id: int, label: str) -> list[dict[str, Any]]:
    """A /broadcast preview with the Send button (its value: the draft's id)."""
    button = {
        "type": "button",
        "action_id": BROADCAST_ACTION,
        "style": "primary",
        "text": {"type": "plain_text", "text": label},
        "value": str(draft_id),
    }
    return [
        {"type": "section", "text": {"type": "plain_text", "text": text[:SECTION_MAX]}},
        {"type": "actions", "block_id": "switchboard_broadcast", "elements": [button]},
    ]


def stop_blocks(text: str, request_id: str, label: str) -> list[dict[str, Any]]:
    """Interim text as plain sections, then the Stop button (``stop:<request_id>``)."""
    sections: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "plain_text", "text": text[i : i + SECTION_MAX]}}
        for i in range(0, len(text), SECTION_MAX)
    ]
    button = {
        "type": "button",
        "action_id": STOP_ACTION,
        "text": {"type": "plain_text", "text": label},
        "value": f"{STOP_PREFIX}{request_id}",
    }
    return [*sections, {"type": "actions", "block_id": "switchboard_stop", "elements": [button]}]


def message(text: str, *, final: bool, stop: tuple[str, str] | None) -> dict[str, Any]:
    """A message's content: the final text as mrkdwn; interim text plain, with the Stop
    button when ``stop`` (request id, label) is given."""
    if final:
        return {"text": markdown_to_mrkdwn(text), "blocks": []}
    if stop is not None:
        return {"text": text, "blocks": stop_blocks(text, *stop)}
    return {"text": text, "blocks": []}


def question(user_id: str, text: str) -> str:
    """The /ask question as the bot shows it, opening the answer's thread."""
    return f"<@{user_id}>: {escape(text)}"[:HEADER_MAX]


def file_name_and_title(item: ImageReady | AudioReady) -> tuple[str, str]:
    extension = extension_for(item.mime)
    if isinstance(item, ImageReady):
        return f"image.{extension}", item.prompt[:200] or "image"
    return f"speech.{extension}", "speech"
