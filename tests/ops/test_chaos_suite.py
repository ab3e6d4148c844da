"""The chaos suite (bench/chaos.py) in its quick size, as CI runs it: the real bot processes
under a Redis cut, a Postgres cut, kill -9, vanishing SSE clients and hostile bodies. It
must exit 0 and print one passing row per scenario.

Known at d8ec6b3 (main when this test was written): the kill -9 row fails, because the dead
worker's partial answers are refunded in full (free answers) until a dead worker's hold is
charged for what was produced; the vanishing-SSE row failed in 3 of the last 4 runs on
requests that never settle (a lost cancellation: docs/benchmarks.md, "Chaos suite")."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bench.chaos import SCENARIOS
from bench.chaos_figures import HEADER

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
ROW_NAMES = {
    "redis": "redis outage",
    "postgres": "postgres outage",
    "kill": "kill -9 worker",
    "vanish": "vanishing SSE",
    "hostile": "hostile bodies",
}


async def test_the_quick_chaos_suite_passes_every_scenario(pg_url: str, redis_url: str) -> None:
    # The fixtures only make sure the services are there (skipped locally, failed in CI
    # when not): the suite makes its own database and Redis prefix from the same settings.
    del pg_url, redis_url
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.chaos",
        "--quick",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    printed = output.decode(errors="replace")
    lines = printed.splitlines()
    assert HEADER in lines, printed[-3000:]
    assert set(ROW_NAMES) == set(SCENARIOS)
    rows = {
        name: [line for line in lines if line.startswith(row)] for name, row in ROW_NAMES.items()
    }
    for name, found in rows.items():
        assert len(found) == 1, f"{name}: {found}\n{printed[-3000:]}"
        assert found[0].endswith("  ok"), f"{name}: {found[0]}\n{printed[-3000:]}"
    assert process.returncode == 0, printed[-3000:]
    assert "all scenarios passed" in lines
