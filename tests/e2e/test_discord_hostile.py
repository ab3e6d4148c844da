"""Hostile input through Discord: /ask with NUL, lone surrogates (sent by the fake gateway
as JSON escapes, as Discord could), bidi and zero-width characters is answered with the
text cleaned, charged once each, no hold left open, no traceback logged."""

from __future__ import annotations

import pytest

from tests.e2e.discord_harness import WELCOME, discord_env, eventually
from tests.hostile_inputs import TEXTS, open_holds, tracebacks, watch_logs


@pytest.mark.postgres
async def test_hostile_prompts_are_answered_clean(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    watch_logs(caplog)
    async with discord_env(pg_url) as env:
        for hostile in TEXTS:
            interaction = await env.slash("ask", {"prompt": hostile.text})
            await eventually(
                lambda i=interaction: env.settled(i) and bool(env.text(i)), what=hostile.name
            )
            assert env.text(interaction) == [f"Echo: {hostile.clean}"], hostile.name
        asked = [
            r.body["messages"][-1]["content"] for r in env.llm.requests_to("/chat/completions")
        ]
        assert asked == [h.clean for h in TEXTS]
        account = await env.app.core.accounts.resolve(env.caller(env.alice))
        async with env.app.uow() as tx:
            usage = await tx.usage.recent(account.id, 50)
        assert len(usage) == len(TEXTS) and all(u.credits > 0 for u in usage)
        assert account.balance == WELCOME - sum(u.credits for u in usage)
        assert await open_holds(env.app.uow) == []
    assert tracebacks(caplog) == []
