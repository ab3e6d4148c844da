"""The event loop every process runs on: uvloop where it is installed (a dependency on
Linux and macOS), else asyncio's own.

uvloop runs the same asyncio programs with its I/O written in C (libuv). Measured on the
/v1 gateway (``python -m bench.gateway_vs_litellm --quick``): about a tenth less CPU per
request with one connection (4.2 to 3.7 ms), where every request's socket reads and
writes to Postgres, Redis, the upstream and the client run alone; no difference measured
at 10 connections, nor on the in-process ``bench.core``."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # Windows, or a trimmed install: the standard loop works the same
        return asyncio.run(main)
    return uvloop.run(main)
