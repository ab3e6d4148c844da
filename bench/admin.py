"""Admin console benchmark: the bytes a first load of ``/admin`` transfers for an admin
(fresh profile, headless Chromium), and how long its JSON takes on a filled database —
the users page, a search, 30 days of usage, the popular topics cold (extraction) and
cached.

    .venv/bin/python -m bench.admin [--accounts 200] [--events 20000] [--questions 2000]

One process: the real app on SQLite with made-up accounts, usage events and questions
written straight through the storage unit of work, then the console's endpoints called
with an admin's session cookies. Times are wall-clock per request, p50/p99 over repeats."""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.common import percentile
from core.types import (
    ConversationKey,
    Feature,
    IdentityKey,
    Outcome,
    Role,
    StoredMessage,
    UsageEvent,
)
from tests.e2e.api_harness import PASSWORD, Api, running_api
from tests.e2e.web_browser import browser, click, fill, open_page, visible

SUBJECTS = (
    "sourdough bread",
    "python list",
    "lisbon trip",
    "tax return",
    "react hooks",
    "квартира в аренду",
    "car insurance",
    "docker compose",
)
PLATFORMS = ("telegram", "discord", "slack", "api")
MODELS = ("gpt-4o-mini", "gpt-4o", "dall-e-3")


async def fill_database(api: Api, accounts: int, events: int, questions: int) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    async with api.app.uow() as uow:
        ids = []
        for n in range(accounts):
            account = await uow.accounts.create(Role.USER)
            key = IdentityKey("telegram", "", str(1000 + n))
            await uow.accounts.add_identity(key, account.id, f"user{n}")
            ids.append(account.id)
        for n in range(events):
            await uow.usage.record(
                UsageEvent(
                    request_id=f"b{n}",
                    account_id=rng.choice(ids),
                    platform=rng.choice(PLATFORMS),
                    feature=Feature.CHAT,
                    model=rng.choice(MODELS),
                    prompt_tokens=300,
                    completion_tokens=400,
                    credits=rng.randint(1, 900_000),
                    latency_ms=800,
                    outcome=Outcome.FAILED if rng.random() < 0.03 else Outcome.OK,
                    created_at=now - timedelta(minutes=rng.randint(0, 29 * 24 * 60)),
                )
            )
        for n in range(questions):
            account_id = rng.choice(ids)
            text = f"How do I {rng.choice(SUBJECTS)} {rng.choice(('today', 'at home', ''))}?"
            await uow.conversations.append(
                ConversationKey("telegram", str(account_id), account_id),
                StoredMessage("user", text, f"q{n}", now - timedelta(hours=n % 500)),
                StoredMessage("assistant", "…", f"q{n}", now - timedelta(hours=n % 500)),
            )
        await uow.commit()


async def page_weight(api: Api, profile: Path) -> tuple[int, int]:
    """(bytes transferred, requests) for a first load of /admin, signed in, cache empty."""
    async with browser(profile) as page:
        await open_page(page, api.base_url + "/")
        await visible(page, "#username")
        await fill(page, "#username", "admin")
        await fill(page, "#password", PASSWORD)
        await click(page, "#sign-in")
        await visible(page, "#message")
        await page.call("Network.clearBrowserCache")
        page.events.clear()
        await open_page(page, api.base_url + "/admin")
        await page.wait_for("document.body.dataset.ready === 'true'")
        await asyncio.sleep(0.5)  # let the favicon request finish
        await page.evaluate("1")
        sizes = [
            e["params"]["encodedDataLength"]
            for e in page.events
            if e["method"] == "Network.loadingFinished"
        ]
        return int(sum(sizes)), len(sizes)


async def timed(http: aiohttp.ClientSession, url: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        async with http.get(url) as response:
            assert response.status == 200, (url, response.status)
            await response.read()
        times.append((time.perf_counter() - start) * 1000)
    return times


def line(name: str, times: list[float]) -> str:
    return (
        f"{name}: p50 {percentile(times, 50):.1f} ms, p99 {percentile(times, 99):.1f} ms"
        f" ({len(times)} requests)"
    )


async def main(accounts: int, events: int, questions: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        async with running_api(db, bot_admins="api:admin") as api:
            await api.register("admin")
            await fill_database(api, accounts, events, questions)
            weight, requests = await page_weight(api, Path(tmp) / "weight")
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                body = {"username": "admin", "password": PASSWORD}
                headers = {"Origin": api.base_url}
                async with http.post(
                    api.base_url + "/web/api/sign-in", json=body, headers=headers
                ) as response:
                    assert response.status == 200
                base = api.base_url + "/web/api/admin/"
                cold = await timed(http, base + "topics", 1)
                results = [
                    line("users page", await timed(http, base + "users", 50)),
                    line("search", await timed(http, base + "users?q=1017", 50)),
                    line("usage (30 days)", await timed(http, base + "usage", 20)),
                    line("topics, cached", await timed(http, base + "topics", 50)),
                ]
    print(f"database: {accounts} accounts, {events} usage events, {questions} questions")
    print(f"first load of /admin: {weight} bytes in {requests} requests (signed in, no cache)")
    print(f"topics, cold (extraction in a thread): {cold[0]:.0f} ms")
    for result in results:
        print(result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--questions", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.events, args.questions))
