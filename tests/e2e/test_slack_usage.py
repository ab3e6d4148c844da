"""Slack: /usage answers privately (the chart, asked for, goes to the person's DM) and
/admin allowance sets one person's allowance."""

from __future__ import annotations

from tests.e2e.slack_harness import ADMIN, ALICE, CHANNEL, eventually, slack_stack


async def test_usage_and_admin_allowance(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        await s.poster.command("/usage", "", user=ALICE, channel=CHANNEL)
        (first,) = await eventually(lambda: s.slack.responses, what="/usage")
        assert first["response_type"] == "ephemeral"
        assert first["text"].startswith("Your spending (balance 100.00 credits):")
        assert "No allowance refills your balance." in first["text"]
        await s.poster.command(
            "/admin", f"allowance <@{ALICE}|alice> monthly:30", user=ADMIN, channel=CHANNEL
        )
        await eventually(lambda: len(s.slack.responses) == 2, what="/admin allowance")
        assert "allowance monthly:30" in s.slack.responses[1]["text"]
        await s.poster.command("/usage", "chart", user=ALICE, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 3, what="/usage chart")
        assert (
            "Next allowance: topped up to 30.00 credits (monthly)" in s.slack.responses[2]["text"]
        )
        charts = await eventually(
            lambda: [f for f in s.slack.files.values() if f.filename == "usage.png" and f.channel],
            what="the chart upload",
        )
        assert [f.channel for f in charts] == [f"D{ALICE}"]
