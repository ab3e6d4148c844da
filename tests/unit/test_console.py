"""The console chat, in-process and as the real ``python -m bots`` command."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest

from bots.bootstrap import open_app
from bots.console.render import after_answer
from bots.console.runner import run
from bots.settings import Settings
from core.i18n import Translator
from core.money import format_credits
from core.types import Outcome, TextDone, Usage
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller
from tests.known_secrets import CONSOLE_API_KEY

ROOT = Path(__file__).resolve().parents[2]


async def test_console_streams_answers_and_runs_commands(sqlite_url, tmp_path):
    lines = iter(
        [
            "hello there",
            "/balance",
            "/model chat-x",
            "/image a red fox",
            "/tts hi",
            "/lang ru",
            "/reset",
            "/history",
            "/quit",
        ]
    )
    out = io.StringIO()
    async with FakeLLM() as llm:
        llm.script(reply="General Kenobi")
        settings = Settings(database_url=sqlite_url, openai_base_url=llm.base_url)
        async with open_app(settings) as app:
            await run(
                app,
                read_line=lambda _p: next(lines),
                out=out,
                media_dir=tmp_path,
                caller=caller("me", platform="console"),
            )
    text = out.getvalue()
    assert "General Kenobi" in text
    assert "Balance: 99." in text  # 100 welcome credits minus the answer
    assert "Unknown model: chat-x" in text
    assert (
        len(list(tmp_path.glob("image-*.png"))) == 1
        and len(list(tmp_path.glob("speech-*.ogg"))) == 1
    )
    assert "Готово: этот разговор забыт." in text  # /lang ru took effect for /reset


async def test_console_refusal_is_one_line_and_nothing_is_asked(sqlite_url, tmp_path):
    lines = iter(["x" * 50, "/quit"])
    out = io.StringIO()
    async with FakeLLM() as llm:
        settings = Settings(
            database_url=sqlite_url, openai_base_url=llm.base_url, max_input_chars=10
        )
        async with open_app(settings) as app:
            await run(
                app,
                read_line=lambda _p: next(lines),
                out=out,
                media_dir=tmp_path,
                caller=caller("me", platform="console"),
            )
        assert llm.requests_to("/chat/completions") == []
    assert "! That text is too long (50 characters; the limit is 10)." in out.getvalue()


def test_an_answer_cut_short_says_so_before_the_charge():
    t = Translator("en")
    charge = "  [" + t("reply.charged", credits=format_credits(5)) + "]"
    assert after_answer(t, TextDone("partial", 5, Usage(1, 1), Outcome.CUT)) == [
        t("reply.cut"),
        charge,
    ]
    assert after_answer(t, TextDone("halt", 5, Usage(1, 1), Outcome.STOPPED))[0] == t(
        "reply.stopped"
    )
    assert after_answer(t, TextDone("whole", 5, Usage(1, 1), Outcome.OK)) == [charge]


@pytest.mark.slow
async def test_python_m_bots_console_on_the_embedded_default(tmp_path):
    async with FakeLLM() as llm:
        llm.script(reply="Hi from the fake")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith(("_TOKEN", "DATABASE_URL", "REDIS_URL"))
        }
        env.update(
            OPENAI_BASE_URL=llm.base_url,
            OPENAI_API_KEY=CONSOLE_API_KEY,
            PYTHONPATH=str(ROOT),
            LANG="en_US.UTF-8",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots",
            "run",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(b"hello\n/balance\n"), timeout=60)
    assert proc.returncode == 0, err.decode()
    assert "Hi from the fake" in out.decode()
    assert (tmp_path / "data" / "switchboard.db").exists()
    assert CONSOLE_API_KEY.encode() not in out + err
    # The chat's logs went to data/console.log; the terminal shows warnings and up only.
    log = (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    assert " INFO " in log and "console chat: logging to" in log
    assert CONSOLE_API_KEY not in log
    after = err.decode().split("opening the console chat", 1)[-1]
    assert " INFO " not in after and " DEBUG " not in after


@pytest.mark.slow
async def test_bad_setting_is_one_clear_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), CONTEXT_MESSAGES="lots")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "console",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "CONTEXT_MESSAGES" in lines[0] and "Traceback" not in lines[0]


async def test_console_retry_asks_the_interrupted_question_once(sqlite_url, tmp_path):
    from tests.e2e.dead_worker import cut_by_a_dead_worker

    me = caller("me", platform="console")
    out = io.StringIO()
    async with FakeLLM() as llm:
        llm.script(reply=" ".join(f"word{i}" for i in range(300)), delay=0.005)
        settings = Settings(database_url=sqlite_url, openai_base_url=llm.base_url)
        async with open_app(settings) as app:
            await app.core.accounts.resolve(me)
            await cut_by_a_dead_worker(app, me, "console", "the console question")
            llm.enqueue(reply="asked again")
            llm.script(reply="a new take")
            lines = iter(["/retry", "/retry", "/quit"])
            await run(app, read_line=lambda _p: next(lines), out=out, media_dir=tmp_path, caller=me)
        *_, asked, regenerated = llm.requests_to("/chat/completions")
    text = out.getvalue()
    assert text.count("asked again") == 1 and "a new take" in text
    # The first /retry asks the interrupted question; the second regenerates its answer.
    assert asked.body["messages"][-1]["content"] == "the console question"
    sent = [m["content"] for m in regenerated.body["messages"]]
    assert sent[-1] == "the console question" and "asked again" not in sent
