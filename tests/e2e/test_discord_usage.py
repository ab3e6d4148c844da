"""Discord: /usage (ephemeral, with the chart on request) and /admin allowance."""

from __future__ import annotations

from tests.e2e.discord_harness import DiscordEnv, discord_env, eventually

EPHEMERAL = 64


async def done(env: DiscordEnv, interaction: int) -> None:
    await eventually(lambda: env.settled(interaction) and bool(env.fake.answer(interaction)))


async def test_usage_and_the_allowance_override(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        alice = env.alice
        await env.balance(alice)
        interaction = await env.slash(
            "admin", {"allowance": {"user": alice, "value": "weekly:7"}}, user=env.admin
        )
        await done(env, interaction)
        assert "allowance weekly:7" in str(env.fake.original(interaction)["content"])
        interaction = await env.slash("usage", {"chart": True}, user=alice)
        await done(env, interaction)
        original = env.fake.original(interaction)
        assert original is not None and int(original["flags"]) & EPHEMERAL
        text = str(original["content"])
        assert text.startswith("Your spending (balance 100.00 credits):")
        assert "Next allowance: topped up to 7.00 credits (weekly)" in text
        await eventually(lambda: env.fake.followups(interaction))
        files = [a for m in env.fake.followups(interaction) for a in m.get("attachments", [])]
        assert [a["filename"] for a in files] == ["usage.png"]
