"""A person who chats on Telegram links their API login and sees the same balance."""

from __future__ import annotations

from bots.commands import CommandContext, run_command
from core.money import format_credits
from core.services.requests import Caller
from core.types import IdentityKey
from tests.e2e.api_harness import running_api


async def test_linking_a_telegram_account_from_the_api(sqlite_url):
    async with running_api(sqlite_url, welcome_credits="7") as api:
        core = api.app.core
        telegram = Caller(IdentityKey("telegram", "", "4242"), display_name="tg")
        tg_account = await core.accounts.resolve(telegram)
        _, token = await api.user("linker")

        # The code asked for on Telegram, typed into the API.
        reply = await run_command(CommandContext(core, telegram, "4242"), "link", "")
        code = reply.text.split()[3]  # "Your link code: CODE …"
        status, body = await api.call("POST", "/link", token, json={"code": code})
        assert status == 200, body
        assert body["balance_micro"] == 14_000_000  # 7 + 7 welcome credits, merged

        status, balance = await api.call("GET", "/balance", token)
        assert status == 200 and balance["balance"] == format_credits(14_000_000)
        assert (await core.accounts.resolve(telegram)).id == tg_account.id

        # The other way round: a code from the API, and a wrong or used code refused.
        status, issued = await api.call("POST", "/link/code", token)
        assert status == 200 and issued["expires_in"] == 600
        status, error = await api.call("POST", "/link", token, json={"code": code})
        assert status == 404 and error["error"]["code"] == "link_code_invalid"
        status, error = await api.call("POST", "/link", token, json={"code": issued["code"]})
        assert status == 409 and error["error"]["code"] == "already_linked"
