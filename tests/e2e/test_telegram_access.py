"""Closed mode on Telegram, end to end: a stranger is told the bot is private and gets no
account; an admin's bare /allow in a group lets its members in; a blocked member is not
answered in the group; /invite → /start <code> admits a newcomer privately; the admin is
told about the refusal (NOTIFY_ADMINS)."""

from __future__ import annotations

from storage.db import create_engine
from storage.uow import sql_uow_factory
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
from tests.harness import caller

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

STRANGER, MEMBER, NEWCOMER = 701, 702, 703
PRIVATE = "This bot is private"


def mention() -> dict[str, object]:
    return {"entities": [{"type": "mention", "offset": 0, "length": len("@switchboard_bot")}]}


async def has_account(url: str, user: int) -> bool:
    engine = create_engine(url)
    try:
        async with sql_uow_factory(engine)() as tx:
            return await tx.accounts.find_by_identity(caller(str(user)).identity) is not None
    finally:
        await engine.dispose()


async def test_closed_bot_on_telegram(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    settings = settings_for(
        sqlite_url, llm, server, access="closed", notify_admins="closed_refusal"
    )
    async with running_bot(settings, server, llm):
        say(server, ADMIN, "/balance", **command("/balance"))  # admins get in, closed or not
        await until(lambda: texts(server, ADMIN), what="the admin's balance")
        say(server, STRANGER, "hello?")
        await until(lambda: texts(server, STRANGER), what="the refusal")
        assert PRIVATE in texts(server, STRANGER)[0]
        assert llm.requests == []
        assert not await has_account(sqlite_url, STRANGER)
        await until(lambda: any("closed mode" in t for t in texts(server, ADMIN)), what="notice")

        say(server, GROUP, "@switchboard_bot hi", user_id=MEMBER, **mention())
        await until(lambda: texts(server, GROUP), what="the group refusal")
        assert PRIVATE in texts(server, GROUP)[-1]
        say(server, GROUP, "/allow", user_id=ADMIN, **command("/allow"))
        await until(lambda: any("Allowed" in t for t in texts(server, GROUP)), what="/allow")
        say(server, GROUP, "@switchboard_bot hi again", user_id=MEMBER, **mention())
        await until(lambda: "Echo: hi again" in texts(server, GROUP), what="the member's answer")
        assert await has_account(sqlite_url, MEMBER)

        say(server, GROUP, f"/block {MEMBER}", user_id=ADMIN, **command("/block"))
        await until(lambda: any("Blocked" in t for t in texts(server, GROUP)), what="/block")
        before = len(texts(server, GROUP))
        say(server, GROUP, "@switchboard_bot still there?", user_id=MEMBER, **mention())
        say(server, MEMBER, "and here?")
        await until(lambda: texts(server, MEMBER), what="the private refusal")
        assert texts(server, MEMBER)[-1] == "You cannot use this bot."
        assert len(texts(server, GROUP)) == before  # the group heard nothing

        say(server, ADMIN, "/invite", **command("/invite"))
        await until(lambda: any("/join" in t for t in texts(server, ADMIN)), what="/invite")
        invite = next(t for t in texts(server, ADMIN) if "/join" in t)
        code = invite.split("/join ")[1].split()[0].rstrip(")")
        say(server, NEWCOMER, f"/start {code}", **command("/start"))
        await until(lambda: texts(server, NEWCOMER), what="the welcome")
        assert texts(server, NEWCOMER)[0].startswith("Welcome! You are in.")
        assert await has_account(sqlite_url, NEWCOMER)


async def test_broadcast_send_button_on_telegram(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm) as bot:
        say(server, MEMBER, "/balance", **command("/balance"))
        await until(lambda: texts(server, MEMBER), what="the member's balance")
        say(server, ADMIN, "/broadcast Maintenance tonight", **command("/broadcast"))
        await until(lambda: any("2 people" in t for t in texts(server, ADMIN)), what="preview")
        with_button = await until(
            lambda: [m for m in server.messages.values() if m.get("reply_markup")],
            what="the Send button",
        )
        button = with_button[0]["reply_markup"]["inline_keyboard"][0][0]
        assert button["callback_data"].startswith("bc:")
        for attempt in ("p1", "p2"):  # pressed twice: sent once
            press = {
                "id": attempt,
                "from": server.user_message(ADMIN, "x")["from"],
                "chat_instance": "ci",
                "message": with_button[0],
                "data": button["callback_data"],
            }
            server.push_update({"callback_query": press})
            await until(
                lambda a=attempt: a in [c["callback_query_id"] for c in server.callback_answers]
            )
        started = "is being sent to 2 people"
        await until(lambda: any(started in t for t in texts(server, ADMIN)), what="the start")
        while await bot.app.core.announcements.deliver_some("test"):  # the worker's job
            pass
        assert texts(server, MEMBER)[-1] == "Maintenance tonight"
        assert sum(started in t for t in texts(server, ADMIN)) == 1
        assert texts(server, ADMIN)[-1].endswith("2 delivered, 0 failed, 0 blocked the bot.")
