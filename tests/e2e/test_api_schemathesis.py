"""Schemathesis over /openapi.json, without and with a token: no 5xx, no answer that the
document does not describe (status, content type, schema)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.api_harness import PASSWORD, api_in_thread

# Worker processes, a browser or a fuzzer: slow; `pytest -m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = "12"
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _post(url: str, body: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _run(base: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(ST),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/openapi.json",
            # Keys only ever get refused, logins lock: stateful reuse adds nothing here.
            "--exclude-checks",
            "use_after_free,ensure_resource_availability",
            "--max-examples",
            MAX_EXAMPLES,
            "--workers",
            "2",
            "--seed",
            "1",
            "--suppress-health-check",
            "all",
            "--report-dir",
            str(tmp),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


# CPython 3.11 before 3.11.5 (gh-106905) can fail hypothesis' own parsing of lambda source
# with this SystemError; schemathesis reports it as a "Runtime Error" of the tool, not of
# the API. Only that error is tolerated, and only when no check failed.
_TOOL_BUG = "AST constructor recursion depth mismatch"


# The fuzzer may send a body of hundreds of megabytes to a /v1 pass-through route (its
# schema has no total size); the server answers 413 at the body limit and closes, and the
# fuzzer, still writing, reports a network error. Only errors on such bodies are tolerated.
_BODY_LIMIT = 20 * 1024 * 1024
_NETWORK_ERRORS = re.compile(r"Network Error: (\d+)")
_HUGE_BODY = re.compile(r"truncated, (\d+) bytes total")


def _oversized_network_errors_only(out: str) -> bool:
    match = _NETWORK_ERRORS.search(out)
    if match is None:
        return False
    huge = [size for size in _HUGE_BODY.findall(out) if int(size) > _BODY_LIMIT]
    return len(huge) >= int(match.group(1))


def _assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    out = result.stdout
    if result.returncode == 0:
        return
    assert "Failures:" not in out, out[-8000:]
    assert "Server error" not in out, out[-8000:]
    if _oversized_network_errors_only(out) and "Runtime Error" not in out:
        return
    errors = out.count("Runtime Error\n") or out.count("Runtime Error")
    assert out.count(_TOOL_BUG) >= 1, out[-8000:]
    assert "test cases" in out.lower() and errors, out[-8000:]


@pytest.mark.skipif(
    not ST.exists() and shutil.which("st") is None, reason="schemathesis not installed (dev extra)"
)
def test_schemathesis_with_and_without_auth(sqlite_url: str, tmp_path: Path) -> None:
    with api_in_thread(sqlite_url, bot_admins="api:fuzzadmin") as base:
        _post(f"{base}/auth/register", {"username": "fuzzadmin", "password": PASSWORD})
        token = str(
            _post(f"{base}/auth/login", {"username": "fuzzadmin", "password": PASSWORD})[
                "access_token"
            ]
        )
        anonymous = _run(base, tmp_path / "anon")
        _assert_clean(anonymous)
        authed = _run(
            base,
            tmp_path / "auth",
            "-H",
            f"Authorization: Bearer {token}",
            # These end the session they run in (covered by their own tests).
            "--exclude-operation-id",
            "delete_me",
            "--exclude-operation-id",
            "logout",
            "--exclude-operation-id",
            "patch_user",
        )
        _assert_clean(authed)
