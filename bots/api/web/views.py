"""What the page's endpoints answer, as JSON: the session (who, balance, models, the
page's words in the person's language) and in-conversation messages."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from bots.api.web.session import WebUser
from bots.views import error_text
from core.errors import CoreError
from core.i18n import Translator
from core.money import format_credits
from core.services import Core
from core.types import Account

JSON = dict[str, Any]
# The page's own words (core/i18n, section [web]); the page shows nothing else of its own.
WORDS = (
    "title",
    "sign_in_title",
    "username",
    "password",
    "sign_in",
    "create_account",
    "invite",
    "sign_out",
    "conversation",
    "message",
    "send",
    "stop",
    "new_chat",
    "new_chat_done",
    "model",
    "balance_label",
    "attach",
    "hint",
    "you",
    "assistant",
    "connection_lost",
    "image_alt",
    "speech",
    "stopped",
    "working",
)


def words(t: Translator) -> dict[str, str]:
    return {key: t(f"web.{key}") for key in WORDS}


def balance_text(t: Translator, account: Account) -> str:
    return t("web.balance", balance=format_credits(account.balance))


def session(core: Core, t: Translator, user: WebUser | None, registration: bool) -> JSON:
    body: JSON = {
        "signed_in": user is not None,
        "registration": registration,
        "language": t.language,
        "words": words(t),
    }
    if user is None:
        return body
    account = user.principal.account
    current = core.accounts.current_chat_model(account)
    body |= {
        "username": user.principal.credential.username,
        "role": account.role.value,
        "balance": balance_text(t, account),
        "models": [
            {
                "name": m.name,
                "label": t(
                    "web.model_option",
                    name=m.name,
                    input=format_credits(m.input_per_1k),
                    output=format_credits(m.output_per_1k),
                ),
                "current": current is not None and m.name == current.name,
            }
            for m in core.accounts.chat_models(account)
        ],
    }
    return body


def reply(kind: str, text: str = "", **extra: Any) -> web.Response:
    """One message for the conversation (a notice, an error, a picture, speech)."""
    return web.json_response({"kind": kind, "text": text, **extra}, headers=NO_STORE)


def error(t: Translator, exc: CoreError) -> web.Response:
    # Refusals are part of the conversation, not failures of the page: 200 with the
    # message, so the browser logs no failed request and the page shows the words.
    return reply("error", error_text(t, exc))


def media(data: bytes, mime: str) -> JSON:
    return {"data": base64.b64encode(data).decode("ascii"), "mime": mime}


NO_STORE = {"Cache-Control": "no-store"}
