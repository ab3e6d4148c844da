"""The admin console at /admin in headless Chromium against the real app and the fake LLM:
search, a user's page, a grant (double-clicked, granted once) the user then sees in the
chat page, a role change and a ban that take effect, the usage charts drawn from real
usage, the system section, a non-admin refused with no admin data sent — at desktop and
375-px widths, by keyboard, with no console error and no request to another origin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.api_harness import PASSWORD, Api, running_api
from tests.e2e.cdp import Page
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

ADMIN_DATA = "/web/api/admin/"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


async def sign_in(page: Page, api: Api, username: str) -> None:
    await open_page(page, api.base_url + "/")
    await visible(page, "#username")
    await fill(page, "#username", username)
    await fill(page, "#password", PASSWORD)
    await click(page, "#sign-in")
    await visible(page, "#message")


async def shown(page: Page, view: str) -> None:
    await visible(page, f"#{view}")
    await page.wait_for("document.body.dataset.ready === 'true'")


async def test_admin_searches_grants_changes_role_and_bans(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        alice_id, _ = await api.user("alice")
        bob_id, _ = await api.user("bob")
        carol_id, carol = await api.user("carol")
        await api.register("admin")
        async with browser(tmp_path / "admin") as page:
            await sign_in(page, api, "admin")
            await open_page(page, api.base_url + "/admin")
            await shown(page, "users-view")
            assert await text_of(page, "label[for=search]") == "Search"
            rows = await page.evaluate(
                "[...document.querySelectorAll('#users-table tbody tr')].map(r => r.dataset.id)"
            )
            assert set(rows) >= {str(alice_id), str(bob_id), str(carol_id)}
            first = "document.querySelector('#users-table tbody tr')"
            cells = await page.evaluate(f"[...{first}.cells].map(c => c.textContent)")
            assert cells[1] == "api" and cells[2] in {"user", "admin"}
            assert cells[3] == "100.00" and cells[4] == "no" and cells[5]

            # Search by name, by account id: typed, then Enter (the keyboard alone).
            await fill(page, "#search", "ali")
            await page.press("Enter", "Enter", 13)
            await page.wait_for("document.querySelectorAll('#users-table tbody tr').length === 1")
            assert await text_of(page, "#users-table tbody th a") == "alice"
            await fill(page, "#search", f"#{carol_id}")
            await page.press("Enter", "Enter", 13)
            await page.wait_for(
                f"document.querySelector('#users-table tbody tr')?.dataset.id === {js(str(carol_id))}"
                " && document.querySelectorAll('#users-table tbody tr').length === 1"
            )
            await fill(page, "#search", "nobody-like-this")
            await page.press("Enter", "Enter", 13)
            await page.wait_for("document.getElementById('users-count').textContent === '0 found'")

            # The username links to the user's page.
            await fill(page, "#search", "alice")
            await page.press("Enter", "Enter", 13)
            await page.wait_for("document.querySelectorAll('#users-table tbody tr').length === 1")
            await click(page, "#users-table tbody th a")
            await shown(page, "user-view")
            await page.wait_for(
                "document.getElementById('user-name').textContent.includes('alice')"
            )
            assert await text_of(page, "#user-balance") == "100.00"
            for selector, label in (
                ("label[for=role]", "Role"),
                ("label[for=amount]", "Amount"),
                ("label[for=reason]", "Reason"),
                ("#grant", "Grant"),
                ("#ban", "Ban"),
            ):
                assert await text_of(page, selector) == label

            # A double click on Grant grants once.
            await fill(page, "#amount", "25")
            await fill(page, "#reason", "welcome gift")
            await page.evaluate(
                "(() => { const b = document.getElementById('grant'); b.click(); b.click(); })()"
            )
            await page.wait_for("document.getElementById('user-balance').textContent === '125.00'")
            await page.wait_for(
                "document.getElementById('user-notice').textContent.includes('125.00')"
            )
            grants = await page.evaluate(
                "[...document.querySelectorAll('#ledger-table tbody tr')]"
                ".filter(r => r.cells[1]?.textContent === 'grant').map(r => r.cells[3].textContent)"
            )
            assert grants == ["welcome gift"]
            status, ledger = await api.call(
                "GET", f"/users/{alice_id}/ledger", (await api.login("admin"))["access_token"]
            )
            assert status == 200
            assert [r["amount_micro"] for r in ledger["items"] if r["kind"] == "grant"] == [
                25_000_000
            ]

            # A bad amount: the core's refusal, shown, nothing granted.
            await fill(page, "#amount", "lots")
            await click(page, "#grant")
            await page.wait_for(
                "document.getElementById('user-notice').textContent.startsWith('Invalid argument')"
            )
            assert await text_of(page, "#user-balance") == "125.00"

            # Role change: bob becomes an admin and can read the directory.
            await page.evaluate(f"location.hash = '#user/{bob_id}'")
            await page.wait_for("document.getElementById('user-name').textContent.includes('bob')")
            await page.evaluate("document.getElementById('role').value = 'admin'")
            await click(page, "#save-role")
            await page.wait_for("document.getElementById('user-role').textContent === 'admin'")
            bob_token = (await api.login("bob"))["access_token"]
            status, _ = await api.call("GET", "/users", bob_token)
            assert status == 200

            # Ban: carol's requests are refused from then on; Unban lifts it.
            await page.evaluate(f"location.hash = '#user/{carol_id}'")
            await page.wait_for(
                "document.getElementById('user-name').textContent.includes('carol')"
            )
            await click(page, "#ban")
            await page.wait_for("document.getElementById('user-banned').textContent === 'yes'")
            assert await text_of(page, "#ban") == "Unban"
            status, _ = await api.call("GET", "/balance", carol)
            assert status in {401, 403}  # tokens issued before the ban are refused
            status, body = await api.call(
                "POST", "/auth/login", json={"username": "carol", "password": PASSWORD}
            )
            if status == 200:
                status, _ = await api.call(
                    "POST", "/ask", body["access_token"], json={"text": "hi"}
                )
            assert status == 403
            await click(page, "#ban")
            await page.wait_for("document.getElementById('user-banned').textContent === 'no'")

            # 375 px: no sideways scrolling on any section.
            await page.call(
                "Emulation.setDeviceMetricsOverride",
                width=375,
                height=740,
                deviceScaleFactor=1,
                mobile=True,
            )
            for view in ("users", "usage", "system", f"user/{alice_id}"):
                await page.evaluate(f"location.hash = '#{view}'")
                await visible(page, f"#{view.split('/')[0]}-view")
                await page.wait_for(NO_SIDEWAYS_SCROLL)
            assert page.problems() == []
            assert outside_requests(page, api.base_url) == []

        # Alice sees the granted credits in the chat page; /admin refuses her.
        async with browser(tmp_path / "alice") as page:
            await sign_in(page, api, "alice")
            assert (
                await page.wait_for("document.querySelector('[aria-label=Balance]').textContent")
                == "Balance: 125.00 credits"
            )
            await open_page(page, api.base_url + "/admin")
            await visible(page, "#refusal")
            assert (
                await text_of(page, "#refusal-text") == "This page is for Switchboard admins only."
            )
            assert await page.evaluate("document.getElementById('console').hidden")
            # The page asked for no admin data; asked anyway, the server answers 403.
            asked = [u for u in page.requested_urls() if ADMIN_DATA in u]
            assert all(u.endswith("/web/api/admin/session") for u in asked), asked
            answer = await page.evaluate(
                "fetch('/web/api/admin/users').then(async r => [r.status, await r.text()])"
            )
            assert answer[0] == 403 and "alice" not in answer[1] and "bob" not in answer[1]
            page.events.clear()  # the 403 just provoked is logged by the browser
            await page.call("Page.reload")
            await visible(page, "#refusal")
            assert page.problems() == []


async def test_usage_charts_topics_and_system(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        alice_id, alice = await api.user("alice")
        await api.register("admin")
        for text in (
            "How do I bake sourdough bread at home?",
            "Why did my sourdough bread not rise?",
            "Best flour for sourdough bread?",
            "Translate 'good morning' into French",
        ):
            status, _ = await api.call("POST", "/ask", alice, json={"text": text})
            assert status == 200
        # Two days ago on Telegram with another model: what the chat adapters record.
        await seed_usage(api, alice_id, datetime.now(UTC) - timedelta(days=2))

        async with browser(tmp_path / "admin", width=1100) as page:
            await sign_in(page, api, "admin")
            await open_page(page, api.base_url + "/admin#usage")
            await shown(page, "usage-view")
            await page.wait_for("document.querySelectorAll('#charts svg').length === 5")
            assert await text_of(page, "#total-requests") == "6"
            series = await page.evaluate(
                "[...new Set([...document.querySelectorAll('#chart-requests-platform rect')]"
                ".map(r => r.dataset.series))].sort()"
            )
            assert series == ["api", "telegram"]
            by_model = await page.evaluate(
                "[...document.querySelectorAll('#chart-requests-model rect')]"
                ".map(r => [r.dataset.series, Number(r.dataset.value)])"
            )
            assert ["vision-model", 2] in by_model
            assert sum(v for _, v in by_model) == 6
            label = await page.evaluate(
                "document.querySelector('#chart-requests-platform svg').getAttribute('aria-label')"
            )
            assert label == "Requests per day by platform: 6 in 30 days"
            credits = await page.evaluate(
                "Number(document.querySelector('#chart-credits-model svg').dataset.total)"
            )
            assert credits > 0
            errors = await page.evaluate(
                "Number(document.querySelector('#chart-errors svg').dataset.total)"
            )
            assert errors == 1 and await text_of(page, "#total-errors") == "1"

            await page.wait_for("document.querySelectorAll('#topics li .phrase').length > 0")
            topics = await page.evaluate(
                "[...document.querySelectorAll('#topics li .phrase')].map(p => p.textContent)"
            )
            assert any("sourdough" in t for t in topics[:2]), topics

            await page.evaluate("location.hash = '#system'")
            await page.wait_for("document.getElementById('system-database')?.textContent === 'ok'")
            assert await text_of(page, "#system-redis") == "off"
            assert await text_of(page, "#system-holds") == "0"
            assert await text_of(page, "#system-version") != ""
            models = await page.evaluate(
                "[...document.querySelectorAll('#models-table tbody th')].map(c => c.textContent)"
            )
            assert models and all(models)
            price = await text_of(page, "#models-table tbody td:last-child")
            assert "credits" in price

            # Keyboard: Tab walks the section links in order.
            await page.evaluate("document.querySelector('.tabs a').focus()")
            order = [await page.evaluate("document.activeElement.hash")]
            for _ in range(2):
                await page.press("Tab", "Tab", 9)
                order.append(await page.evaluate("document.activeElement.hash"))
            assert order == ["#users", "#usage", "#system"]
            await page.press("Enter", "Enter", 13)
            await visible(page, "#system-view")

            assert page.problems() == []
            assert outside_requests(page, api.base_url) == []


async def seed_usage(api: Api, account_id: int, when: datetime) -> None:
    from core.types import Feature, Outcome, UsageEvent

    async with api.app.uow() as uow:
        for n, outcome in enumerate((Outcome.OK, Outcome.FAILED)):
            await uow.usage.record(
                UsageEvent(
                    request_id=f"seed{n}",
                    account_id=account_id,
                    platform="telegram",
                    feature=Feature.CHAT,
                    model="vision-model",
                    prompt_tokens=100,
                    completion_tokens=50,
                    credits=1_500_000,
                    latency_ms=300,
                    outcome=outcome,
                    created_at=when,
                )
            )
        await uow.commit()


async def test_admin_closes_the_bot_sets_a_rule_and_invites(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        await api.register("admin")
        async with browser(tmp_path / "admin") as page:
            await sign_in(page, api, "admin")
            await open_page(page, api.base_url + "/admin#access")
            await shown(page, "access-view")
            assert await text_of(page, "#access-toggle") == "Close the bot"
            await click(page, "#access-toggle")
            await page.wait_for("document.getElementById('access-view').dataset.mode === 'closed'")
            assert await text_of(page, "#access-toggle") == "Open the bot"
            assert (await text_of(page, "#access-mode")).startswith("closed")

            await fill(page, "#rule-subject", "telegram:123")
            await click(page, "#add-rule")
            await page.wait_for("document.querySelectorAll('#rules-table tbody tr').length === 1")
            assert await text_of(page, "#rules-table tbody td") == "telegram:123"

            await fill(page, "#invite-uses", "3")
            await click(page, "#create-invite")
            await page.wait_for("document.querySelectorAll('#invites-table tbody tr').length === 1")
            code = await text_of(page, "#invites-table tbody td")
            assert await text_of(page, "#invites-table tbody td:last-child") == "3"
            assert f"/join {code}" in await text_of(page, "#access-notice")

            await click(page, "#rules-table tbody button")
            await page.wait_for("document.querySelectorAll('#rules-table tbody tr').length === 0")

            # What the page shows is what the core stored.
            async with api.app.uow() as uow:
                rules = {r.subject: r.verdict for r in await uow.access.rules()}
                invites = await uow.access.invites(10)
            assert rules == {"mode": "closed"}
            assert [(i.code, i.uses_left) for i in invites] == [(code, 3)]
            assert page.problems() == []
            assert outside_requests(page, api.base_url) == []

        # On a phone the section fits: the tables scroll inside their box, not the page.
        async with browser(tmp_path / "phone", width=375) as phone:
            await sign_in(phone, api, "admin")
            await open_page(phone, api.base_url + "/admin#access")
            await shown(phone, "access-view")
            await phone.wait_for(
                "document.querySelectorAll('#invites-table tbody tr').length === 1"
            )
            await phone.wait_for(NO_SIDEWAYS_SCROLL)
