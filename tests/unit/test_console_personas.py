"""The console with the personal commands: persona and instructions reach the upstream,
/voice on saves each answer as audio, /export saves the conversation as Markdown."""

from __future__ import annotations

import io

from bots.bootstrap import open_app
from bots.console.runner import run
from bots.settings import Settings
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller


async def test_console_personal_commands(sqlite_url, tmp_path):
    lines = iter(
        [
            "/persona concise",
            "/instructions Use metric units.",
            "/voice on",
            "how far is the moon?",
            "/settings",
            "/voice off",
            "/instructions",
            "/export",
            "/quit",
        ]
    )
    out = io.StringIO()
    async with FakeLLM() as llm:
        llm.script(reply="About 384,400 km.")
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
    system = llm.requests_to("/chat/completions")[0].body["messages"][0]["content"]
    assert "Answer as briefly as the question allows" in system
    assert system.endswith("The user's own instructions for you:\nUse metric units.")
    assert "Persona for this chat: concise." in text and "Persona: concise" in text
    (speech,) = llm.requests_to("/audio/speech")
    assert speech.body["input"] == "About 384,400 km."
    (spoken,) = tmp_path.glob("answer-*.ogg")
    assert spoken.read_bytes()[:4] == b"OggS"
    assert "Your instructions in this chat:\nUse metric units." in text
    (exported,) = tmp_path.glob("conversation-*.md")
    markdown = exported.read_text()
    assert "how far is the moon?" in markdown and "About 384,400 km." in markdown
