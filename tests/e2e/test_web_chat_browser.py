"""The chat page in headless Chromium against the real app and the fake LLM: signing up,
answers streamed as they are made, Stop, history after a reload, wrong passwords, cookies
no script can read, sign-out on the server — with no console error and no request to any
other origin."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests.e2e.api_harness import PASSWORD, running_api
from tests.e2e.web_browser import (
    browser,
    click,
    fill,
    js,
    open_page,
    outside_requests,
    text_of,
    visible,
)

pytestmark = pytest.mark.slow

STREAMING = "(() => { const b = document.querySelector('.msg.streaming .body'); return b && b.textContent; })()"
RECORD_STREAMING = """(() => {
  window.seenWhileStreaming = [];
  new MutationObserver(() => {
    const body = document.querySelector('.msg.streaming .body');
    if (body) window.seenWhileStreaming.push(body.textContent);
  }).observe(document.getElementById('log'), {childList: true, subtree: true, characterData: true});
  return true;
})()"""
LAST_BOT = "document.querySelector('.msg.bot:last-of-type .body')"
SLOW_REPLY = "one two three four five six seven eight nine ten"


async def test_sign_up_stream_stop_reload_and_sign_out(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(sqlite_url) as api, browser(tmp_path / "profile") as page:
        await open_page(page, api.base_url + "/")
        await visible(page, "#username")
        assert await text_of(page, "label[for=username]") == "Username"
        assert await text_of(page, "label[for=password]") == "Password"
        assert await text_of(page, "#sign-in") == "Sign in"
        assert await text_of(page, "#create-account") == "Create account"
        # The keyboard alone reaches every control, in reading order.
        await page.evaluate("document.getElementById('username').focus()")
        order = []
        for _ in range(4):
            await page.press("Tab", "Tab", 9)
            order.append(await page.evaluate("document.activeElement.id"))
        # The invitation code (optional; needed only when the bot is closed) sits before
        # the buttons.
        assert order == ["password", "invite", "sign-in", "create-account"]

        await fill(page, "#username", "alice")
        await fill(page, "#password", PASSWORD)
        await click(page, "#create-account")
        await visible(page, "#message")
        assert await text_of(page, "label[for=message]") == "Message"
        assert (
            await page.wait_for("document.querySelector('[aria-label=Balance]').textContent")
            == "Balance: 100.00 credits"
        )
        assert await page.evaluate("document.querySelector('[role=log]') !== null")
        # No token where a script could read it.
        assert await page.evaluate("document.cookie") == ""
        assert await page.evaluate("localStorage.length + sessionStorage.length") == 0
        cookies = (await page.call("Network.getCookies", urls=[api.base_url + "/web/api/"]))[
            "cookies"
        ]
        assert {c["name"] for c in cookies} == {"sb_access", "sb_refresh"}
        assert all(c["httpOnly"] and c["sameSite"] == "Strict" for c in cookies)

        # Shift+Enter is a new line, not a send.
        await fill(page, "#message", "first line")
        await page.press("Enter", "Enter", 13, modifiers=8)
        assert "\n" in await page.evaluate("document.getElementById('message').value")
        assert await page.evaluate("document.querySelectorAll('.msg.user').length") == 0

        # Enter sends; the text shows up while it is being generated (every state of the
        # answer's element is recorded as it changes, so no poll can miss one).
        await page.evaluate(RECORD_STREAMING)
        api.llm.enqueue(reply=SLOW_REPLY, delay=0.2)
        await fill(page, "#message", "count to ten")
        await page.press("Enter", "Enter", 13)
        await page.wait_for(STREAMING)
        assert await page.evaluate("document.getElementById('send').hidden")
        assert not await page.evaluate("document.getElementById('stop').hidden")
        await page.wait_for("!document.querySelector('.msg.streaming')")
        assert SLOW_REPLY in await page.evaluate(f"{LAST_BOT}.textContent")
        seen = [s.strip() for s in await page.evaluate("window.seenWhileStreaming")]
        partial = [s for s in seen if s and s != SLOW_REPLY and SLOW_REPLY.startswith(s)]
        assert len(set(partial)) >= 3, seen  # word after word, not all at once
        balance = await text_of(page, "#balance")
        assert balance.startswith("Balance: ") and balance != "Balance: 100.00 credits"

        # Stop: the partial answer stays, marked, and is charged like the messengers.
        long_reply = " ".join(f"word{i}" for i in range(300))
        api.llm.enqueue(reply=long_reply, delay=0.05)
        await fill(page, "#message", "talk for a long time")
        await click(page, "#send")
        await page.wait_for(f"({STREAMING} || '').length > 20")
        await click(page, "#stop")
        await page.wait_for("!document.querySelector('.msg.streaming')")
        stopped = str(await page.evaluate(f"{LAST_BOT}.textContent"))
        assert "(stopped)" in stopped and "word0" in stopped and "word299" not in stopped
        assert await page.evaluate("document.getElementById('stop').hidden")
        after_stop = await text_of(page, "#balance")
        assert after_stop != balance

        # A reload keeps the session and shows the conversation again.
        await page.call("Page.reload")
        await page.wait_for("document.querySelectorAll('.msg.user').length >= 2")
        questions = await page.evaluate(
            "[...document.querySelectorAll('.msg.user')].map(m => m.textContent).join('|')"
        )
        assert "count to ten" in questions and "talk for a long time" in questions
        assert await text_of(page, "#balance") == after_stop

        # Sign out ends the session on the server: the old cookie no longer works.
        access = next(c["value"] for c in cookies if c["name"] == "sb_access")
        await click(page, "#sign-out")
        await visible(page, "#username")
        async with ClientSession(cookies={"sb_access": access}) as http:
            async with http.get(api.base_url + "/web/api/session") as response:
                assert (await response.json())["signed_in"] is False

        # A wrong password: a clear message in the alert region; then the right one.
        await fill(page, "#username", "alice")
        await fill(page, "#password", "not the password")
        await click(page, "#sign-in")
        alert = await page.wait_for("document.querySelector('[role=alert]').textContent")
        assert alert == "Wrong username or password."
        await fill(page, "#password", PASSWORD)
        await page.press("Enter", "Enter", 13)
        await visible(page, "#message")

        assert page.problems() == []
        assert outside_requests(page, api.base_url) == []
        assert len(page.requested_urls()) > 5


async def test_registration_off_shows_only_sign_in(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(sqlite_url, web_registration=False) as api:
        async with browser(tmp_path / "profile") as page:
            await open_page(page, api.base_url + "/")
            await visible(page, "#sign-in")
            assert await page.evaluate("document.getElementById('create-account').hidden")
        origin = {"Origin": api.base_url}
        body = {"username": "mallory", "password": PASSWORD}
        status, answer = await api.call(
            "POST", "/web/api/create-account", json=body, headers=origin
        )
        assert status == 200 and answer["kind"] == "error"
        assert js(answer["text"]).startswith('"Creating accounts is turned off')
        assert page.problems() == []
