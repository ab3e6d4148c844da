"""The "API keys" section of a user's page in /admin, in headless Chromium against the
real app: the admin sees a key's name, prefix and use, revokes it with two clicks (the
first only asks), the row goes and /v1 refuses the key; a user without keys shows "No API
keys."; no console error, no request to another origin, no sideways scrolling on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.api_harness import running_api
from tests.e2e.test_web_admin_browser import NO_SIDEWAYS_SCROLL, shown, sign_in
from tests.e2e.web_browser import browser, click, open_page, outside_requests, text_of

pytestmark = pytest.mark.slow

ROWS = "document.querySelectorAll('#keys-table tbody tr[data-id]').length"


async def test_admin_sees_and_revokes_a_users_key(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        alice_id, alice = await api.user("alice")
        bob_id, _ = await api.user("bob")
        await api.register("admin")
        status, key = await api.call(
            "POST", "/api-keys", alice, json={"name": "ci-runner", "requests_per_minute": 7}
        )
        assert status == 201, key
        assert (await api.call("GET", "/v1/models", key["key"]))[0] == 200

        async with browser(tmp_path / "admin") as page:
            await sign_in(page, api, "admin")
            await open_page(page, api.base_url + f"/admin#user/{alice_id}")
            await shown(page, "user-view")
            await page.wait_for(f"{ROWS} === 1")
            assert await text_of(page, "#keys-table thead th") == "Name"
            assert await text_of(page, "#keys-table tbody th") == "ci-runner"
            cells = await page.evaluate(
                "[...document.querySelector('#keys-table tbody tr').cells].map(c => c.textContent)"
            )
            assert cells[1].startswith(key["prefix"]) and key["key"] not in "".join(cells)
            assert cells[3] == "no limit" and cells[6] == "any" and cells[7] == "7"
            assert cells[8] == "0" and cells[9] == "never"

            # The first click only asks; the second revokes.
            button = "#keys-table tbody button"
            assert await text_of(page, button) == "Revoke"
            await click(page, button)
            assert await text_of(page, button) == "Really revoke?"
            assert (await api.call("GET", "/v1/models", key["key"]))[0] == 200
            await click(page, button)
            await page.wait_for(f"{ROWS} === 0")
            assert await text_of(page, "#keys-table tbody td") == "No API keys."
            assert (await text_of(page, "#user-notice")).startswith("Key revoked")
            assert (await api.call("GET", "/v1/models", key["key"]))[0] == 401

            await page.evaluate(f"location.hash = '#user/{bob_id}'")
            await page.wait_for("document.getElementById('user-name').textContent.includes('bob')")
            await page.wait_for(
                "document.querySelector('#keys-table tbody td')?.textContent === 'No API keys.'"
            )
            assert page.problems() == []
            assert outside_requests(page, api.base_url) == []

        # On a phone the eleven columns scroll inside their box, not the page.
        async with browser(tmp_path / "phone", width=375) as phone:
            status, _ = await api.call("POST", "/api-keys", alice, json={"name": "phone"})
            assert status == 201
            await sign_in(phone, api, "admin")
            await open_page(phone, api.base_url + f"/admin#user/{alice_id}")
            await shown(phone, "user-view")
            await phone.wait_for(f"{ROWS} === 1")
            await phone.wait_for(NO_SIDEWAYS_SCROLL)
            assert phone.problems() == []
