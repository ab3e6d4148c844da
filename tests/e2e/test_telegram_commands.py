"""Commands: the menus, the shared commands, and every admin command — done by a bot
admin, refused for anyone else (a Telegram group admin included)."""

from __future__ import annotations

import pytest

from core.i18n import Translator
from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import (
    ADMIN,
    GROUP,
    command,
    running_bot,
    say,
    settings_for,
    texts,
    until,
)
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 701
GROUP_ADMIN = 702

ADMIN_CASES = [
    (f"/grant {USER} 25 thanks", "balance is now 125"),
    (f"/setrole {USER} guest", "role is now guest"),
    (f"/ban {USER}", "is banned"),
    (f"/unban {USER}", "is unbanned"),
    (f"/user {USER}", "Balance: 125"),
    ("/stats", "Last 30 days"),
]


async def ask(server: FakeTelegramServer, chat: int, text: str, user: int, **fields: object) -> str:
    before = len(texts(server, chat))
    say(server, chat, text, user_id=user, **command(text), **fields)
    await until(lambda: len(texts(server, chat)) > before, what=text)
    return texts(server, chat)[-1]


@pytest.fixture
def fast(server: FakeTelegramServer) -> FakeTelegramServer:
    server.limits_enabled = False  # flood control is covered elsewhere; these tests are about words
    return server


async def test_admin_commands_by_admin_and_refused_for_others(
    sqlite_url: str, llm: FakeLLM, fast: FakeTelegramServer
) -> None:
    settings = settings_for(sqlite_url, llm, fast, telegram_edit_interval=0.05)
    async with running_bot(settings, fast, llm):
        assert "Your balance: 100" in await ask(fast, USER, "/start", USER)
        for text, expected in ADMIN_CASES:
            assert expected in await ask(fast, ADMIN, text, ADMIN), text
        # /stats also sends the usage chart, as a photo.
        await until(lambda: fast.calls_for("sendPhoto", chat_id=ADMIN), what="the chart")
        (chart,) = fast.calls_for("sendPhoto", chat_id=ADMIN)
        assert any(data.startswith(b"\x89PNG") for data in chart.files.values())
        for text, _ in ADMIN_CASES:
            assert await ask(fast, USER, text.replace(str(USER), str(ADMIN)), USER) == (
                "You are not allowed to do that."
            )
        # A group admin in Telegram is nobody special to the bot.
        refused = await ask(fast, GROUP, f"/grant@switchboard_bot {GROUP_ADMIN} 1000", GROUP_ADMIN)
        assert refused == "You are not allowed to do that."
        # A reply points at the person: the admin grants to the author of the replied message.
        target = fast.user_message(GROUP, "hi", user_id=USER)
        say(fast, GROUP, "/grant 5", user_id=ADMIN, reply_to_message=target, **command("/grant"))
        await until(lambda: len(texts(fast, GROUP)) == 2, what="the reply-grant")
        assert "private message" in texts(fast, GROUP)[-1]
        await until(lambda: "balance is now 130" in texts(fast, ADMIN)[-1], what="the DM")
    assert fast.calls_for("setMyCommands")
    admin_menu = [
        c
        for c in fast.calls_for("setMyCommands")
        if (c.params.get("scope") or {}).get("chat_id") == ADMIN
    ]
    assert admin_menu and {"grant", "stats"} <= {
        c["command"] for c in admin_menu[0].params["commands"]
    }
    assert "grant" not in {c["command"] for c in fast.commands["default:"]}


async def test_shared_commands_in_russian(
    sqlite_url: str, llm: FakeLLM, fast: FakeTelegramServer
) -> None:
    settings = settings_for(sqlite_url, llm, fast, telegram_edit_interval=0.05)
    async with running_bot(settings, fast, llm):
        russian = {"id": USER, "is_bot": False, "first_name": "Ива", "language_code": "ru"}
        say(fast, USER, "/balance", **{"from": russian}, **command("/balance"))
        await until(lambda: texts(fast, USER), what="/balance")
        assert texts(fast, USER)[0].startswith("Баланс: 100")
        ru, who = Translator("ru"), {"from": russian}
        assert await ask(fast, USER, "/help", USER, **who) == ru("cmd.help")
        assert "gpt-4o-mini" in await ask(fast, USER, "/model", USER, **who)
        set_model = await ask(fast, USER, "/model gpt-4o", USER, **who)
        assert set_model == ru("cmd.model_set", model="gpt-4o")
        assert await ask(fast, USER, "/nonsense", USER, **who) == ru("cmd.help")
