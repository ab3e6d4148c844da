"""Hostile input on the console: lines with NUL, lone surrogates, bidi or zero-width
characters (a terminal with surrogateescape can hand those in) are answered with the text
cleaned, charged once each, no hold left open; a command argument with NUL is looked up
cleaned too."""

from __future__ import annotations

import io

import pytest

from bots.bootstrap import open_app
from bots.console.runner import run
from bots.settings import Settings
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller
from tests.hostile_inputs import TEXTS, open_holds, tracebacks, watch_logs


@pytest.mark.postgres
async def test_hostile_console_lines(
    pg_url: str, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    watch_logs(caplog)
    lines = iter([h.text for h in TEXTS] + ["/model no\x00such\ud800", "/quit"])
    out = io.StringIO()
    async with FakeLLM() as llm:
        settings = Settings(database_url=pg_url, openai_base_url=llm.base_url)  # type: ignore[call-arg]
        async with open_app(settings) as app:
            await run(
                app,
                read_line=lambda _p: next(lines),
                out=out,
                media_dir=tmp_path,
                caller=caller("eve", platform="console"),
            )
            assert await open_holds(app.uow) == []
        asked = [r.body["messages"][-1]["content"] for r in llm.requests_to("/chat/completions")]
    assert asked == [h.clean for h in TEXTS]
    text = out.getvalue()
    for hostile in TEXTS:
        assert f"Echo: {hostile.clean}" in text, hostile.name
    assert "Unknown model: nosuch\ufffd" in text
    assert tracebacks(caplog) == []
