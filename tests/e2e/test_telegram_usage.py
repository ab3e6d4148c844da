"""Telegram: an answer shortened by the balance says so after it, /usage tells what was
spent and when the allowance comes, /usage chart adds a picture; allowances from settings."""

from __future__ import annotations

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import command, running_bot, say, settings_for, texts, until
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 731
SHORTENED = "(shortened: your balance paid for no longer an answer)"


async def test_shortened_answer_then_usage_and_chart(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    server.limits_enabled = False  # flood control is covered elsewhere
    # 1 credit: pays the prompt (about 0.4) but not a full answer of 1,024 tokens.
    settings = settings_for(
        sqlite_url,
        llm,
        server,
        welcome_credits="0",
        allowances="user:daily:1",
        telegram_edit_interval=0.05,
        telegram_drafts=False,
    )
    llm.script(reply=" ".join(["word"] * 400))
    async with running_bot(settings, server, llm):
        say(server, USER, "tell me everything", user_id=USER)
        await until(lambda: any(SHORTENED in t for t in texts(server, USER)), what="the note")
        (sent,) = [r.body["max_tokens"] for r in llm.requests_to("/chat/completions")]
        assert 0 < sent < 1024
        before = len(texts(server, USER))
        say(server, USER, "/usage chart", user_id=USER, **command("/usage"))
        await until(lambda: len(texts(server, USER)) > before, what="/usage")
        answer = texts(server, USER)[-1]
        assert answer.startswith("Your spending (balance -")
        assert "Today: " in answer and "chat gpt-4o-mini: " in answer
        assert "Next allowance: topped up to 1.00 credits (daily) at " in answer
        await until(lambda: server.calls_for("sendPhoto", chat_id=USER), what="the chart")
        (chart,) = server.calls_for("sendPhoto", chat_id=USER)
        assert any(data.startswith(b"\x89PNG") for data in chart.files.values())
    assert "usage" in {c["command"] for c in server.commands["default:"]}
