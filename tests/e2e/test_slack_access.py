"""Closed mode on Slack, end to end: a stranger's DM and slash command are refused with
"this bot is private" and create no account; an admin's bare `/admin allow` in a channel
lets its members in; `/join <code>` admits a newcomer; an announcement reaches a person's
DM through the Slack messenger (conversations.open + chat.postMessage)."""

from __future__ import annotations

from bots.slack.messenger import SlackMessenger
from core.types import IdentityKey
from tests.e2e.slack_harness import ADMIN, ALICE, BOB, CHANNEL, TEAM, eventually, slack_stack

PRIVATE = "This bot is private"


async def _has_account(s, user: str) -> bool:  # type: ignore[no-untyped-def]
    async with s.app.uow() as tx:
        return await tx.accounts.find_by_identity(IdentityKey("slack", TEAM, user)) is not None


async def test_closed_bot_on_slack(sqlite_url: str) -> None:
    admins = f"slack:{TEAM}/{ADMIN}"
    async with slack_stack(sqlite_url, access="closed", bot_admins=admins) as s:
        await s.poster.event(s.message_event("hello?", user=ALICE))
        refusal = await eventually(lambda: s.slack.bot_messages("D0ALICE"), what="refusal")
        assert PRIVATE in refusal[0].text
        await s.poster.command("/balance", "", user=ALICE, channel=CHANNEL)
        (reply,) = await eventually(lambda: s.slack.responses, what="command refusal")
        assert PRIVATE in reply["text"] and reply["response_type"] == "ephemeral"
        assert not await _has_account(s, ALICE)
        assert s.llm.requests == []

        await s.poster.command("/admin", "allow", user=ADMIN, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 2, what="/admin allow")
        assert f"slack:chat:{TEAM}/{CHANNEL}" in s.slack.responses[1]["text"]
        await s.poster.command("/balance", "", user=ALICE, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 3, what="alice's balance")
        assert "Balance" in s.slack.responses[2]["text"]
        assert await _has_account(s, ALICE)

        await s.poster.command("/admin", "invite 1", user=ADMIN, channel=CHANNEL)
        await eventually(lambda: len(s.slack.responses) == 4, what="/admin invite")
        code = s.slack.responses[3]["text"].split("/join ")[1].split()[0]
        await s.poster.command("/join", code, user=BOB, channel="D0BOB")
        await eventually(lambda: len(s.slack.responses) == 5, what="/join")
        assert s.slack.responses[4]["text"].startswith("Welcome! You are in.")

        s.app.messengers["slack"] = SlackMessenger(s.deps.client)  # what runner.run does
        await s.poster.command(
            "/admin", "broadcast slack hello from the admins", user=ADMIN, channel=CHANNEL
        )
        await eventually(lambda: len(s.slack.responses) == 6, what="the preview")
        preview = s.slack.responses[5]
        assert "3 people" in preview["text"] and preview["response_type"] == "ephemeral"
        (button,) = preview["blocks"][-1]["elements"]
        pressed = await s.poster.action(
            button["action_id"], button["value"], user=ADMIN, channel=CHANNEL, message_ts="1.1"
        )
        assert pressed.status == 200
        await eventually(lambda: len(s.slack.responses) == 7, what="the start")
        assert "is being sent to 3 people" in s.slack.responses[6]["text"]
        while await s.app.core.announcements.deliver_some("w"):
            pass
        assert [m.text for m in s.slack.bot_messages(f"D{BOB}")] == ["hello from the admins"]
        report = [m.text for m in s.slack.bot_messages(f"D{ADMIN}")]
        assert report[-1].endswith("3 delivered, 0 failed, 0 blocked the bot.")
        # a second press starts nothing twice
        await s.poster.action(
            button["action_id"], button["value"], user=ADMIN, channel=CHANNEL, message_ts="1.1"
        )
        await eventually(lambda: len(s.slack.responses) == 8, what="the second press")
        assert "Broadcast" not in s.slack.responses[7]["text"]
