"""What recording the progress of open answers costs: the estimate of N open answers (run
once per lease beat, never per chunk) and one heartbeat (lease renewal plus the one UPDATE
of N owner rows) on SQLite, and on Postgres when ``--database-url`` names one.

    .venv/bin/python -m bench.hold_progress --answers 200 --chars 8000
    .venv/bin/python -m bench.hold_progress --database-url postgresql+asyncpg://…"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta

from core.money import estimate_tokens
from core.services.leases import WorkerLease
from core.services.progress import HoldProgress
from core.services.sweep import ReservationSweeper
from storage.db import create_engine, sqlite_url_for
from storage.migrate import migrate
from storage.uow import sql_uow_factory


def estimates(answers: int, chars: int, rounds: int) -> float:
    """Median milliseconds for ``HoldProgress.changed()`` over ``answers`` open answers."""
    progress = HoldProgress()
    texts = {f"r{i}": "word " * (chars // 5) for i in range(answers)}
    for request_id, text in texts.items():
        progress.track(request_id, lambda t=text: estimate_tokens(t) * 20)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        progress.changed()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def heartbeats(url: str, answers: int, rounds: int) -> float:
    """Median milliseconds of one heartbeat that writes ``answers`` changed estimates."""
    await migrate(url)
    engine = create_engine(url)
    uow = sql_uow_factory(engine)
    try:
        progress = HoldProgress()
        lease = WorkerLease(
            uow, "bench", timedelta(seconds=30), ReservationSweeper(uow), progress=progress
        )
        async with uow() as tx:
            for i in range(answers):
                await tx.leases.own(f"bench-{i}", "bench", "telegram", str(i), 1, "q")
            await tx.commit()
        values = dict.fromkeys((f"bench-{i}" for i in range(answers)), 0)
        for request_id in values:
            progress.track(request_id, lambda r=request_id: values[r])
        times = []
        for beat in range(rounds):
            for request_id in values:
                values[request_id] = beat + 1  # every answer moved since the last beat
            start = time.perf_counter()
            await lease.renew()
            times.append((time.perf_counter() - start) * 1000)
        async with uow() as tx:
            await tx.leases.prune(lease._clock() + timedelta(days=1))
            await tx.commit()
        return statistics.median(times)
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--chars", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    ms = estimates(args.answers, args.chars, args.rounds)
    print(f"estimate of {args.answers} open answers of {args.chars} chars: {ms:.2f} ms")
    with tempfile.TemporaryDirectory() as folder:
        sqlite = await heartbeats(sqlite_url_for(f"{folder}/b.db"), args.answers, args.rounds)
    print(f"heartbeat writing {args.answers} estimates, SQLite: {sqlite:.2f} ms")
    if args.database_url:
        pg = await heartbeats(args.database_url, args.answers, args.rounds)
        print(
            f"heartbeat writing {args.answers} estimates, {args.database_url.split(':')[0]}: "
            f"{pg:.2f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
