"""The /docs page (Swagger UI) loads in headless Chromium, from this server only, and lists
every endpoint of /openapi.json with an Authorize button."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request

import pytest

from tests.e2e.api_harness import api_in_thread

# Worker processes, a browser or a fuzzer: slow; `pytest -m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"
)
def test_docs_page_lists_every_endpoint(sqlite_url: str, tmp_path: object) -> None:
    assert CHROMIUM is not None
    with api_in_thread(sqlite_url) as base:
        with urllib.request.urlopen(f"{base}/openapi.json", timeout=10) as response:
            document = json.loads(response.read())
        html = urllib.request.urlopen(f"{base}/docs", timeout=10).read().decode()
        assert "http://" not in html and "https://" not in html  # nothing from a CDN
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"{base}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        ).stdout
    operations = re.findall(
        r'opblock-summary-method">(\w+)</span>.*?data-path="([^"]+)"', dom, re.S
    )
    listed = {(path, method.lower()) for method, path in operations}
    expected = {(p, m) for p, item in document["paths"].items() for m in item}
    assert len(expected) >= 25
    assert listed == expected
    assert 'class="btn authorize' in dom
    assert set(document["components"]["securitySchemes"]) >= {"bearerAuth"}


# Clicks Authorize, types the token into Swagger UI's dialog, then runs GET /users/me
# from the page with "Try it out" / "Execute": the answer is 200 only if the token went along.
AUTHORIZE = """
(() => {
  const input = document.querySelector('.modal-ux input');
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(input, %s);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  document.querySelector('.modal-ux .auth-btn-wrapper button.authorize').click();
  document.querySelector('.modal-ux .btn-done, .modal-ux button.close-modal').click();
  return true;
})()
"""
TRY_USERS_ME = """
(() => {
  const block = [...document.querySelectorAll('.opblock-get')]
    .find(b => b.querySelector('[data-path="/users/me"]'));
  if (!block.classList.contains('is-open')) block.querySelector('.opblock-summary-control').click();
  return true;
})()
"""
CLICK = "(() => { const b = document.querySelector(%s); if (!b) return false; b.click(); return true; })()"
STATUS = """(() => {
  const cell = document.querySelector('.opblock-get.is-open .live-responses-table tbody .response-col_status');
  return cell ? cell.textContent.trim() : '';
})()"""


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"
)
def test_authorize_button_sends_the_token(sqlite_url: str, tmp_path: object) -> None:
    import asyncio

    from tests.e2e.cdp import chromium_page

    assert CHROMIUM is not None
    with api_in_thread(sqlite_url) as base:
        body = json.dumps({"username": "swagger", "password": "a long enough password"}).encode()
        headers = {"Content-Type": "application/json"}
        for path in ("/auth/register", "/auth/login"):
            request = urllib.request.Request(f"{base}{path}", data=body, headers=headers)
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        token = answer["access_token"]

        async def drive() -> str:
            async with chromium_page(CHROMIUM, str(tmp_path), f"{base}/docs") as page:
                await page.wait_for("document.querySelectorAll('.opblock').length > 20")
                await page.evaluate(CLICK % json.dumps(".btn.authorize"))
                await page.wait_for("!!document.querySelector('.modal-ux input')")
                await page.evaluate(AUTHORIZE % json.dumps(token))
                await page.evaluate(TRY_USERS_ME)
                await page.wait_for(CLICK % json.dumps(".opblock-get.is-open .try-out__btn"))
                await page.wait_for(CLICK % json.dumps(".opblock-get.is-open .execute"))
                return str(await page.wait_for(STATUS))

        status = asyncio.run(drive())
    assert status == "200"
