"""README screenshots of the web chat, made in headless Chromium against the real app and
the fake LLM (nothing leaves the machine):

    PYTHONPATH=. .venv/bin/python scripts/web_screenshots.py [--out docs/img]

Writes web-signin.png, web-chat.png (1100 px wide) and web-chat-phone.png (375 px)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
from pathlib import Path

from tests.e2e.api_harness import PASSWORD, running_api
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


async def shot(page: Page, path: Path, width: int, height: int) -> None:
    await page.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width < 500,
    )
    await asyncio.sleep(0.3)  # a frame or two to lay out at the new size
    data = (await page.call("Page.captureScreenshot", format="png"))["data"]
    await asyncio.to_thread(path.write_bytes, base64.b64decode(data))
    print(f"wrote {path}")


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_api(f"sqlite+aiosqlite:///{tmp}/shots.db") as api:
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs") / "img")
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
