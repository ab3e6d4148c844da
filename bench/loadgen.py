"""Load generators shared by the gateway comparison: `wrk` (closed loop, a fixed number of
connections), an aiohttp closed loop in its own process when wrk is missing, and an aiohttp
open loop (requests started on a fixed schedule whatever the server does).

The same generator drives every server, so their figures compare even though the
generator's own cost is in all of them."""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import percentile

WRK = shutil.which("wrk")
GENERATOR = "wrk (closed loop, 1 thread)" if WRK else "aiohttp closed loop (wrk not on PATH)"


@dataclass
class Run:
    requests: int  # answered with a 2xx
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int = 0  # non-2xx answers, socket errors and timeouts
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def body(stream: bool) -> dict[str, Any]:
    question: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hello there"}],
    }
    return {**question, "stream": True} if stream else question


def closed_loop(url: str, key: str | None, stream: bool, connections: int, seconds: float) -> Run:
    if WRK:
        run = _wrk(url, key, stream, connections, seconds)
    else:
        ctx = mp.get_context("spawn")
        with ctx.Pool(1) as pool:  # a process of its own: its CPU must not be the server's
            run = pool.apply(_aiohttp_closed, (url, key, stream, connections, seconds))
    if run.requests == 0:  # requests still unanswered at the end are in no error count
        run.failed = max(run.failed, connections)
    return run


# ---- wrk ---------------------------------------------------------------------------------

_LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
{auth}
"""
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _wrk(url: str, key: str | None, stream: bool, connections: int, seconds: float) -> Run:
    auth = f'wrk.headers["Authorization"] = "Bearer {key}"' if key else ""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "post.lua")
        script.write_text(_LUA.format(body=json.dumps(body(stream)), auth=auth))
        command = [WRK, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
        command += ["--timeout", "10s", "-s", str(script), url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return _parse_wrk(out)


def _parse_wrk(out: str) -> Run:
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    seconds = float(total[2]) * _UNIT[total[3]] / 1000
    pcts = {p: float(v) * _UNIT[u] for p, v, u in re.findall(r"(\d+)%\s+([\d.]+)(us|ms|s|m)", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(non2xx[1]) if non2xx else 0
    failed += sum(int(n) for n in socket.groups()) if socket else 0
    return Run(int(total[1]) - failed, seconds, pcts.get("50", 0.0), pcts.get("99", 0.0), failed)


# ---- aiohttp -----------------------------------------------------------------------------


async def _post(http: aiohttp.ClientSession, url: str, key: str | None, stream: bool) -> bool:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with http.post(url, json=body(stream), headers=headers) as r:
            await r.read()  # a stream is read to its end, as wrk does
            return 200 <= r.status < 300
    except (aiohttp.ClientError, TimeoutError):
        return False


def _aiohttp_closed(url: str, key: str | None, stream: bool, connections: int, secs: float) -> Run:
    async def main() -> Run:
        latencies: list[float] = []
        failed = 0
        end = time.perf_counter() + secs

        async def worker(http: aiohttp.ClientSession) -> None:
            nonlocal failed
            while (start := time.perf_counter()) < end:
                if await _post(http, url, key, stream):
                    latencies.append(time.perf_counter() - start)
                else:
                    failed += 1

        began = time.perf_counter()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            await asyncio.gather(*(worker(http) for _ in range(connections)))
        return _summary(latencies, time.perf_counter() - began, failed)

    return asyncio.run(main())


async def open_loop(url: str, key: str | None, rate: float, seconds: float) -> Run:
    """Start one request every 1/rate s for `seconds`, each timed from its scheduled start
    (so a late start counts against the server, not hidden by waiting for it)."""
    latencies: list[float] = []
    failed = 0

    async def one(http: aiohttp.ClientSession, due: float) -> None:
        nonlocal failed
        if await _post(http, url, key, False):
            latencies.append(time.perf_counter() - due)
        else:
            failed += 1

    count = int(rate * seconds)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        began = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for i in range(count):
                due = began + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                group.create_task(one(http, due))
    return _summary(latencies, time.perf_counter() - began, failed)


def _summary(latencies: list[float], seconds: float, failed: int) -> Run:
    ms = [x * 1000 for x in latencies]
    return Run(len(ms), seconds, percentile(ms, 50), percentile(ms, 99), failed, ms)
