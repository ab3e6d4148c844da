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
