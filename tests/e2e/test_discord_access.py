"""Closed mode on Discord, end to end: a stranger's slash command is refused privately
with "this bot is private" and creates no account; an admin's `/admin allow` with no
argument in a server channel lets that channel's members in; `/admin block` refuses them."""

from __future__ import annotations

from tests.e2e.discord_harness import discord_env, eventually

PRIVATE = "This bot is private"


def _reply(env, interaction: int) -> str:  # type: ignore[no-untyped-def]
    original = env.fake.original(interaction)
    if original is not None:
        return str(original["content"])
    return " ".join(str(m["content"]) for m in env.fake.followups(interaction))


async def _answered(env, interaction: int) -> str:  # type: ignore[no-untyped-def]
    await eventually(lambda: bool(_reply(env, interaction).strip()), what="a reply")
    return _reply(env, interaction)


async def _has_account(env, user) -> bool:  # type: ignore[no-untyped-def]
    async with env.app.uow() as tx:
        return await tx.accounts.find_by_identity(env.caller(user).identity) is not None


async def test_closed_bot_on_discord(sqlite_url: str) -> None:
    async with discord_env(sqlite_url, access="closed") as env:
        refused = await env.slash("balance")
        assert PRIVATE in await _answered(env, refused)
        assert not await _has_account(env, env.alice)

        allowed = await env.slash("admin", {"allow": {}}, user=env.admin)
        assert f"discord:chat:{env.channel_id}" in await _answered(env, allowed)
        balance = await env.slash("balance")
        assert "Balance" in await _answered(env, balance)
        assert await _has_account(env, env.alice)

        blocked = await env.slash("admin", {"block": {"user": env.alice}}, user=env.admin)
        assert f"discord:{env.alice['id']}" in await _answered(env, blocked)
        again = await env.slash("balance")
        assert "You cannot use this bot." in await _answered(env, again)
        assert env.llm.requests == []


async def test_broadcast_preview_and_send_button_on_discord(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        await env.balance(env.alice)  # alice has an account
        preview = await env.slash(
            "admin", {"broadcast": {"text": "hello from the admins"}}, user=env.admin
        )
        assert "2 people" in await _answered(env, preview)
        await eventually(lambda: bool(env.fake.followups(preview)), what="the Send button")
        (with_button,) = env.fake.followups(preview)
        custom_id = with_button["components"][0]["components"][0]["custom_id"]
        assert custom_id.startswith("bc:")
        # only admins may send it: alice's press is refused to her alone
        refused = await env.fake.dispatch_interaction(
            env.fake.click(int(with_button["id"]), custom_id, user=env.alice)
        )
        assert "not allowed" in await _answered(env, refused)
        pressed = await env.fake.dispatch_interaction(
            env.fake.click(int(with_button["id"]), custom_id, user=env.admin)
        )
        assert "is being sent to 2 people" in await _answered(env, pressed)
        again = await env.fake.dispatch_interaction(
            env.fake.click(int(with_button["id"]), custom_id, user=env.admin)
        )
        assert "being sent" not in await _answered(env, again)
        report = await env.app.core.announcements.report(int(custom_id[3:]))
        assert sum(report.values()) == 2
