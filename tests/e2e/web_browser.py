"""Shared by the web page's browser tests: Chromium with the brief's flags on a fresh
profile, and small DOM helpers over the DevTools protocol. The tests FAIL when CI=true
and Chromium is missing (a skipped browser test would hide a broken page)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cdp import Page, chromium_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def require_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return CHROMIUM


@asynccontextmanager
async def browser(profile: Path, width: int | None = None) -> AsyncIterator[Page]:
    """A blank page that records console messages and requests from the start."""
    binary = require_chromium()
    async with chromium_page(binary, str(profile), "about:blank", FLAGS) as page:
        await page.watch()
        if width is not None:
            await page.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=740,
                deviceScaleFactor=1,
                mobile=True,
            )
        yield page


async def open_page(page: Page, url: str) -> None:
    await page.call("Page.navigate", url=url)
    await page.wait_for("document.readyState === 'complete'")


def js(value: Any) -> str:
    return json.dumps(value)


async def text_of(page: Page, selector: str) -> str:
    return str(await page.evaluate(f"document.querySelector({js(selector)})?.textContent ?? ''"))


async def fill(page: Page, selector: str, value: str) -> None:
    """Focus the field and type into it, as a person would."""
    await page.evaluate(
        f"(() => {{ const el = document.querySelector({js(selector)}); el.value = ''; el.focus(); }})()"
    )
    await page.type_text(value)


async def click(page: Page, selector: str) -> None:
    await page.evaluate(f"document.querySelector({js(selector)}).click()")


async def visible(page: Page, selector: str) -> None:
    await page.wait_for(
        f"(() => {{ const el = document.querySelector({js(selector)});"
        " return !!el && el.offsetParent !== null; })()"
    )


def outside_requests(page: Page, base_url: str) -> list[str]:
    return [
        url
        for url in page.requested_urls()
        if not url.startswith((base_url + "/", "blob:", "data:", "about:"))
    ]
