"""Web chat benchmark in headless Chromium: time from pressing Send to the first answer
text visible on the page (p50/p99, the fake LLM answering instantly), and the bytes a
first load of ``/`` transfers (fresh profile: HTML, modules, CSS, favicon, session probe).

    .venv/bin/python -m bench.web [--sends 100]

One process: the real app on SQLite, the fake LLM, and Chromium over the DevTools
protocol. The time is taken inside the page (performance.now() from the click to the
MutationObserver seeing the first character), so it includes the request, admission,
the upstream call, the SSE parse and the DOM update, but not the DevTools round trips."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.common import percentile
from tests.e2e.api_harness import PASSWORD, running_api
from tests.e2e.web_browser import browser, click, fill, open_page, visible

FIRST_TEXT = """
new Promise((resolve) => {
  const log = document.getElementById('log');
  let start = 0;
  const seen = new MutationObserver(() => {
    const body = document.querySelector('.msg.streaming .body');
    if (body && body.textContent.length > 0) {
      seen.disconnect();
      resolve(performance.now() - start);
    }
  });
  seen.observe(log, { childList: true, subtree: true, characterData: true });
  document.getElementById('message').value = 'ping ' + Math.random();
  start = performance.now();
  document.getElementById('send').click();
})
"""
IDLE = "!document.querySelector('.msg.streaming') && document.getElementById('stop').hidden"


async def page_weight(base_url: str, profile: Path) -> tuple[int, int]:
    """(bytes transferred, requests) for a first load of / with an empty cache."""
    async with browser(profile) as page:
        await open_page(page, base_url + "/")
        await visible(page, "#username")
        await asyncio.sleep(0.5)  # let the favicon request finish
        await page.evaluate("1")  # drain the events that arrived meanwhile
        sizes = [
            e["params"]["encodedDataLength"]
            for e in page.events
            if e["method"] == "Network.loadingFinished"
        ]
        return int(sum(sizes)), len(sizes)


async def main(sends: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        overrides = {"welcome_credits": "1000000"}
        async with running_api(db, **overrides) as api:
            weight, requests = await page_weight(api.base_url, Path(tmp) / "weight")
            async with browser(Path(tmp) / "chat") as page:
                await open_page(page, api.base_url + "/")
                await visible(page, "#username")
                await fill(page, "#username", "bench")
                await fill(page, "#password", PASSWORD)
                await click(page, "#create-account")
                await visible(page, "#message")
                times = []
                for _ in range(sends):
                    times.append(float(await page.evaluate(FIRST_TEXT)))
                    await page.wait_for(IDLE)
    print(f"first load of /: {weight} bytes in {requests} requests (fresh profile)")
    print(
        f"Send → first visible text, {sends} sends: p50 {percentile(times, 50):.1f} ms, "
        f"p99 {percentile(times, 99):.1f} ms, max {max(times):.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=100)
    asyncio.run(main(parser.parse_args().sends))
