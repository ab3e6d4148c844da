"""The chaos suite: the real bot processes under faults, as an operator would meet them.

    python -m bench.chaos                      # every scenario, full size
    python -m bench.chaos --quick              # every scenario, small (CI: a few minutes)
    python -m bench.chaos --scenario redis     # one of: redis postgres kill vanish hostile
    python -m bench.chaos --checkout /path     # run that checkout's `python -m bots`

Each scenario starts `python -m bots run ...` on a fresh Postgres database and Redis prefix
(TEST_DATABASE_URL / TEST_REDIS_URL) against the fake Telegram Bot API (which enforces the
flood limits) and the fake LLM, and prints one row of figures:

  people      people asking (API: clients)
  complete    the whole answer arrived
  partial     no whole answer, but the person was told (a notice); API: clients that left
  silent      neither a whole answer nor a notice
  open holds  holds still open after the lease TTL (+ margin)
  free        answers (or parts) a person saw that were not charged
  double      charges beyond the answers a person saw
  ledger=bal  every balance equals the sum of its ledger
  tracebacks  in the bot's logs (stderr)
  429s        refusals from the fake platform
  locked      a normal request was not answered in normal time afterwards

It exits 1 and says why on a silent person, a free answer, a hold open past the lease, a
traceback, a database left locked (or a ledger that does not add up)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.chaos_api import vanishing_clients
from bench.chaos_figures import HEADER, Row, format_row
from bench.chaos_telegram import FULL, QUICK, Size, hostile_bodies, kill_worker, outage
from bench.chaos_world import ROOT

Scenario = Callable[[Size, Path, Path], Awaitable[Row]]


async def _redis(size: Size, checkout: Path, folder: Path) -> Row:
    return await outage("redis", size, checkout, folder)


async def _postgres(size: Size, checkout: Path, folder: Path) -> Row:
    return await outage("postgres", size, checkout, folder)


SCENARIOS: dict[str, Scenario] = {
    "redis": _redis,
    "postgres": _postgres,
    "kill": kill_worker,
    "vanish": vanishing_clients,
    "hostile": hostile_bodies,
}


def _quiet_proxy_noise(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Python 3.11 logs every connection task of our own TCP proxy that a cut cancels; that
    is the suite's doing, not the bot's (whose logs are what the suite checks)."""
    exc = context.get("exception")
    if exc is not None and any(
        "tcp_proxy.py" in frame.f_code.co_filename
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    ):
        return
    loop.default_exception_handler(context)


async def run(names: list[str], size: Size, checkout: Path, keep_logs: Path | None) -> int:
    asyncio.get_running_loop().set_exception_handler(_quiet_proxy_noise)
    print(HEADER, flush=True)
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sbchaos") as scratch:
        folder = keep_logs or Path(scratch)
        for name in names:
            started = time.monotonic()
            try:
                row = await SCENARIOS[name](size, checkout, folder)
            except (RuntimeError, OSError, TimeoutError) as exc:
                # A bot that does not start (or an old checkout that cannot run the
                # scenario) is a failure, said plainly.
                row = Row(name, error=f"{type(exc).__name__}: {exc}")
            print(format_row(row), flush=True)
            for note in row.notes:
                print(f"    {name}: {note}", flush=True)
            print(f"    {name}: {time.monotonic() - started:.0f} s", flush=True)
            if row.failures():
                failed.append(f"{row.scenario}: {', '.join(row.failures())}")
    if failed:
        print("FAILED\n  " + "\n  ".join(failed), flush=True)
        if keep_logs is None:
            print("(the bots' logs were in a temporary folder: keep them with --logs DIR)")
        return 1
    print("all scenarios passed", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small: under ~3 min in all")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument(
        "--checkout", type=Path, default=ROOT, help="run this checkout's bot (its .venv)"
    )
    parser.add_argument("--logs", type=Path, help="keep the bots' logs in this folder")
    args = parser.parse_args()
    names = args.scenario or list(SCENARIOS)
    checkout = args.checkout.resolve()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(names, QUICK if args.quick else FULL, checkout, args.logs))


if __name__ == "__main__":
    sys.exit(main())
