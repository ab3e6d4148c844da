"""README screenshots of the web chat, made in headless Chromium against the real app and
the fake LLM (nothing leaves the machine):

    PYTHONPATH=. .venv/bin/python scripts/web_screenshots.py [--out docs/img]

Writes web-signin.png, web-chat.png (1100 px wide) and web-chat-phone.png (375 px), and of
the admin console admin-usage.png, admin-user.png (1100 px), admin-user-phone.png and
admin-phone.png (375 px),
after a few days of made-up usage on several platforms and models."""

from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.types import Feature, Outcome, UsageEvent
from tests.e2e.api_harness import PASSWORD, Api, running_api
from tests.e2e.cdp import Page
from tests.e2e.web_browser import browser, click, fill, open_page, visible

ANSWER = (
    "Here is a **binary search** in Python:\n\n"
    "```\ndef search(items, target):\n    lo, hi = 0, len(items) - 1\n"
    "    while lo <= hi:\n        mid = (lo + hi) // 2\n        if items[mid] == target:\n"
    "            return mid\n        if items[mid] < target:\n            lo = mid + 1\n"
    "        else:\n            hi = mid - 1\n    return -1\n```\n\n"
    "- the list must be sorted\n- it takes O(log n) steps\n\n"
    "More in [the Python docs](https://docs.python.org/3/library/bisect.html)."
)


async def shot(
    page: Page, path: Path, width: int, height: int, scroll_to: str | None = None
) -> None:
    await page.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width < 500,
    )
    await asyncio.sleep(0.3)  # a frame or two to lay out at the new size
    if scroll_to is not None:  # after the resize: the layout it scrolls in is this one
        await page.evaluate(f"document.getElementById('{scroll_to}').scrollIntoView()")
        await asyncio.sleep(0.2)
    data = (await page.call("Page.captureScreenshot", format="png"))["data"]
    await asyncio.to_thread(path.write_bytes, base64.b64decode(data))
    print(f"wrote {path}")


QUESTIONS = (
    "How do I bake sourdough bread?",
    "Why does my sourdough bread not rise?",
    "Explain binary search in Python",
    "How do I reverse a list in Python?",
    "Plan a weekend trip to Lisbon",
)
PLATFORMS = ("telegram", "discord", "slack", "api")
MODELS = ("gpt-4o-mini", "gpt-4o", "dall-e-3")


async def made_up_usage(api: Api, account_id: int) -> None:
    """A month of usage as the adapters record it, so the charts have something to show."""
    now = datetime.now(UTC)
    async with api.app.uow() as uow:
        for day in range(30):
            for n in range((day * 7) % 5 + 2):
                platform = PLATFORMS[(day + n) % len(PLATFORMS)]
                model = MODELS[(day * n) % len(MODELS)]
                await uow.usage.record(
                    UsageEvent(
                        request_id=f"shot{day}-{n}",
                        account_id=account_id,
                        platform=platform,
                        feature=Feature.IMAGE if model == "dall-e-3" else Feature.CHAT,
                        model=model,
                        prompt_tokens=300 + 40 * n,
                        completion_tokens=500,
                        credits=(200_000 + 90_000 * n) * (3 if model == "gpt-4o" else 1),
                        latency_ms=900,
                        outcome=Outcome.FAILED if (day + n) % 11 == 0 else Outcome.OK,
                        created_at=now - timedelta(days=day, hours=n),
                    )
                )
        await uow.commit()


async def admin_shots(api: Api, profile: Path, out: Path) -> None:
    alice_id, alice = await api.user("bob")
    await api.register("admin")
    for question in QUESTIONS:
        await api.call("POST", "/ask", alice, json={"text": question})
    await made_up_usage(api, alice_id)
    # Two API keys for the user page's "API keys" table: one with limits, used once.
    limits = {"name": "ci-bot", "budget_micro": 50_000_000, "models": ["gpt-4o-mini"]}
    limits["requests_per_minute"] = 30
    _, limited = await api.call("POST", "/api-keys", alice, json=limits)
    await api.call("POST", "/api-keys", alice, json={"name": "laptop"})
    hello = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
    await api.call("POST", "/v1/chat/completions", limited["key"], json=hello)
    async with browser(profile) as page:
        await open_page(page, api.base_url + "/")
        await visible(page, "#username")
        await fill(page, "#username", "admin")
        await fill(page, "#password", PASSWORD)
        await click(page, "#sign-in")
        await visible(page, "#message")
        await open_page(page, api.base_url + "/admin#usage")
        await page.wait_for("document.querySelectorAll('#topics li').length > 0")
        await shot(page, out / "admin-usage.png", 1100, 1100)
        await page.evaluate(f"location.hash = '#user/{alice_id}'")
        await page.wait_for("document.querySelectorAll('#questions li').length > 0")
        await fill(page, "#amount", "20")
        await fill(page, "#reason", "thanks for the bug report")
        await click(page, "#grant")
        await page.wait_for("document.getElementById('user-notice').textContent !== ''")
        await page.wait_for("document.querySelectorAll('#keys-table tbody tr').length > 1")
        await shot(page, out / "admin-user.png", 1100, 1200)
        await shot(page, out / "admin-user-phone.png", 375, 740, scroll_to="keys-table")
        await page.evaluate("location.hash = '#users'")
        await page.wait_for("document.querySelectorAll('#users-table tbody tr').length > 1")
        await shot(page, out / "admin-phone.png", 375, 740)


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_api(
            f"sqlite+aiosqlite:///{tmp}/shots.db", bot_admins="api:admin"
        ) as api:
            async with browser(Path(tmp) / "profile") as page:
                await open_page(page, api.base_url + "/")
                await visible(page, "#username")
                await shot(page, out / "web-signin.png", 1100, 600)
                await fill(page, "#username", "alice")
                await fill(page, "#password", PASSWORD)
                await click(page, "#create-account")
                await visible(page, "#message")
                api.llm.enqueue(reply=ANSWER)
                await fill(page, "#message", "How do I search a sorted list quickly?")
                await click(page, "#send")
                await page.wait_for("!!document.querySelector('#log pre')")
                await fill(page, "#message", "/balance")
                await click(page, "#send")
                await page.wait_for("document.querySelectorAll('.msg.bot').length >= 2")
                await fill(page, "#message", "")
                await shot(page, out / "web-chat.png", 1100, 760)
                await shot(page, out / "web-chat-phone.png", 375, 740)
            await admin_shots(api, Path(tmp) / "admin-profile", out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs") / "img")
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
