"""``run(app)``: the console chat on this terminal (stdin/stdout) until EOF or ``/quit``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bots.console.app import build_app
from bots.console.deps import ConsoleDeps
from bots.console.mapping import console_caller
from bots.console.sink import ConsoleSink
from core.services.requests import Caller

if TYPE_CHECKING:
    from bots.bootstrap import App


async def run(
    app: App,
    *,
    read_line: Callable[[str], str] = input,
    out: TextIO | None = None,
    media_dir: Path = Path("data") / "media",
    caller: Caller | None = None,
) -> None:
    sink = ConsoleSink(out or sys.stdout, media_dir)
    deps = ConsoleDeps(core=app.core, caller=caller or console_caller(), sink=sink)
    await build_app(deps).run(read_line)
