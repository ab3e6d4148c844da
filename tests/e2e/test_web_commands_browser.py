"""The chat page on a 375-px phone screen: shared commands typed in the message box
(/image shows the picture, /tts a player, /balance, /history, /link, /lang, /help, an
admin's /grant), the Model picker and New chat, an audio file transcribed, Markdown rendered with any HTML in the answer shown as text and
run never, and refusals (no credits, upstream busy or down) as messages in the
conversation — no sideways scrolling, no console error, no request to another origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.i18n import Translator
from tests.e2e.api_harness import PASSWORD, running_api
from tests.e2e.cdp import Page
from tests.e2e.web_browser import (
    browser,
    click,
    fill,
    open_page,
    outside_requests,
    text_of,
    visible,
)
from tests.fakes.llm_media import ogg_opus

pytestmark = pytest.mark.slow

PHONE = 375
NO_SIDEWAYS = f"document.documentElement.scrollWidth <= {PHONE}"
HOSTILE = (
    'Look: <img src=x onerror="window.pwned=1"> and <script>window.pwned=2</script>\n\n'
    "```\n" + "x = 1  # " + "long " * 80 + "\n```\n\n"
    "- first item\n- second **bold** item\n\n"
    "[a site](https://example.com/docs) and [bad](javascript:window.pwned=3)"
)
en = Translator("en")


async def send(page: Page, text: str) -> str:
    """Type a message, press Enter, wait for the reply; the reply's text."""
    count = int(await page.evaluate("document.querySelectorAll('.msg.bot').length"))
    await fill(page, "#message", text)
    await page.press("Enter", "Enter", 13)
    await page.wait_for(
        f"document.querySelectorAll('.msg.bot').length > {count}"
        " && !document.querySelector('.msg.streaming') && document.getElementById('stop').hidden"
    )
    return str(await page.evaluate("[...document.querySelectorAll('.msg.bot')].at(-1).textContent"))


async def test_commands_media_hostile_answers_and_errors_on_a_phone(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_api(sqlite_url, bot_admins="api:bob") as api:
        async with browser(tmp_path / "profile", width=PHONE) as page:
            await open_page(page, api.base_url + "/")
            await visible(page, "#username")
            assert await page.evaluate(NO_SIDEWAYS)
            await fill(page, "#username", "bob")
            await fill(page, "#password", PASSWORD)
            await click(page, "#create-account")
            await visible(page, "#message")
            assert await page.evaluate(NO_SIDEWAYS)
            assert await text_of(page, "#balance") == "Balance: 100.00 credits"
            options = await page.evaluate(
                "[...document.querySelectorAll('#model option')].map(o => o.textContent)"
            )
            assert any("gpt-4o-mini" in o and "credits per 1K tokens" in o for o in options)

            # An answer full of HTML: shown as text, nothing runs, Markdown rendered.
            api.llm.enqueue(reply=HOSTILE)
            answer = await send(page, "show me something nasty")
            assert "<script>window.pwned=2</script>" in answer
            assert '<img src=x onerror="window.pwned=1">' in answer
            assert await page.evaluate("window.pwned === undefined")
            assert (
                await page.evaluate("document.querySelectorAll('#log img, #log script').length")
                == 0
            )
            block = "[...document.querySelectorAll('#log pre > code')].at(-1).parentElement"
            assert await page.evaluate(f"{block}.scrollWidth > {block}.clientWidth")
            assert await page.evaluate("[...document.querySelectorAll('#log ul li')].length") == 2
            link = "document.querySelector('#log a')"
            assert await page.evaluate(f"{link}.href") == "https://example.com/docs"
            assert await page.evaluate(f"{link}.target") == "_blank"
            assert await page.evaluate(f"{link}.rel") == "noopener noreferrer"
            assert await page.evaluate("document.querySelectorAll('#log a').length") == 1
            assert await page.evaluate(NO_SIDEWAYS)

            # /image: the picture, charged, balance updated.
            before = await text_of(page, "#balance")
            await send(page, "/image a red square")
            img = "[...document.querySelectorAll('#log img')].at(-1)"
            await page.wait_for(f"{img} && {img}.complete && {img}.naturalWidth > 0")
            assert await page.evaluate(f"{img}.src.startsWith('blob:')")
            assert await text_of(page, "#balance") != before

            # /tts: an audio player.
            await send(page, "/tts hello there")
            assert await page.evaluate(
                "[...document.querySelectorAll('#log audio')].at(-1).src.startsWith('blob:')"
            )

            # An audio file attached: its transcript.
            clip = tmp_path / "note.ogg"
            clip.write_bytes(ogg_opus(100))
            count = await page.evaluate("document.querySelectorAll('.msg.bot').length")
            await page.set_files("#audio", [str(clip)])
            await page.wait_for(f"document.querySelectorAll('.msg.bot').length > {count}")
            transcript = en("reply.transcript", text="Hello from the fake transcriber.")
            assert transcript in await page.evaluate(
                "[...document.querySelectorAll('.msg.bot')].at(-1).textContent"
            )

            # Shared commands, with the messengers' words.
            assert "Balance:" in await send(page, "/balance")
            assert "show me something nasty" in await send(page, "/history")
            assert "/link" in await send(page, "/link")
            assert "/balance" in await send(page, "/help")
            await send(page, "/lang ru")
            await page.wait_for(
                "document.querySelector('label[for=message]').textContent === 'Сообщение'"
            )
            assert (await text_of(page, "#balance")).startswith("Баланс: ")
            await send(page, "/lang en")
            await page.wait_for(
                "document.querySelector('label[for=message]').textContent === 'Message'"
            )

            # The Model picker and New chat.
            await page.evaluate(
                "(() => { const s = document.getElementById('model'); s.value = 'gpt-4o';"
                " s.dispatchEvent(new Event('change')); })()"
            )
            await page.wait_for(
                "[...document.querySelectorAll('.msg.bot')].at(-1).textContent"
                ".includes('Model set to gpt-4o.')"
            )
            await send(page, "which model?")
            last = api.llm.requests_to("/chat/completions")[-1].body
            assert last["model"] == "gpt-4o" and len(last["messages"]) > 2  # with context
            await click(page, "#new-chat")
            await page.wait_for(
                "[...document.querySelectorAll('.msg.bot')].at(-1).textContent.includes('New chat')"
            )
            await send(page, "fresh start")
            last = api.llm.requests_to("/chat/completions")[-1].body
            assert [m["role"] for m in last["messages"]] == ["system", "user"], last["messages"]

            # Refusals in the conversation: the AI service busy, then down; then no credits.
            api.llm.script(fail_before_output=429, rate_limit_retry_after=7)
            reply = await send(page, "are you there?")
            assert "The AI service is busy" in reply
            api.llm.script(fail_before_output=503)
            reply = await send(page, "are you there now?")
            assert en("error.upstream_unavailable") in reply
            api.llm.script()
            assert "Echo: back again" in await send(page, "back again")

            # An admin command typed in the page (bob is an admin), then no credits left.
            reply = await send(page, "/grant bob -1000 emptying the account for the test")
            assert "balance is now -" in reply
            assert (await text_of(page, "#balance")).startswith("Balance: -")
            reply = await send(page, "/image another one")
            assert "Not enough credits" in reply
            errors = await page.evaluate(
                "[...document.querySelectorAll('.msg.error')].map(m => m.textContent)"
            )
            assert len(errors) == 3, errors
            assert await page.evaluate(NO_SIDEWAYS)
            assert page.problems() == []
            assert outside_requests(page, api.base_url) == []
            # The recorder is live: a console error would have been caught.
            await page.evaluate("console.error('probe')")
            assert any("probe" in p for p in page.problems())
