"""The text commands every chat adapter shares (/balance, /model, /grant, …).

An adapter parses ``/name args`` its own way (Telegram text, Slack slash command, console
line), then calls ``run_command``; what comes back is the translated reply. Paid commands
(/ask, /image, /tts) stream or send media, so the adapters handle those themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from bots import views
from bots.charts import own_usage_chart, usage_chart
from bots.command_context import CommandContext, Handler, Reply, ReplyFile, seen
from bots.language import translator
from bots.personal_commands import PERSONAL_COMMANDS
from core.i18n import Translator, available_languages
from core.money import format_credits
from core.services.announcements import CONFIRM
from core.text_input import clean_text


async def _start(ctx: CommandContext, t: Translator, args: str) -> Reply:
    if args.strip():  # Telegram's deep link: t.me/<bot>?start=<invitation code>
        return await _join(ctx, t, args)
    await seen(ctx)
    account = await ctx.core.conversations.balance(ctx.caller)
    name = ctx.caller.display_name or ""
    return Reply(t("cmd.start", name=name, balance=format_credits(account.balance)))


async def _help(ctx: CommandContext, t: Translator, args: str) -> Reply:
    await seen(ctx)
    account = await ctx.core.accounts.resolve(ctx.caller)
    text = t("cmd.help")
    if account.role.value == "admin":
        text += "\n\n" + t("cmd.help_admin")
    return Reply(text)


async def _balance(ctx: CommandContext, t: Translator, args: str) -> Reply:
    await seen(ctx)
    account = await ctx.core.conversations.balance(ctx.caller)
    return Reply(
        views.balance_text(t, account, ctx.core.accounts.current_chat_model(account)), private=True
    )


async def _reset(ctx: CommandContext, t: Translator, args: str) -> Reply:
    await ctx.core.conversations.reset(ctx.caller, ctx.chat_id, ctx.event_id)
    return Reply(t("cmd.reset"))


async def _history(ctx: CommandContext, t: Translator, args: str) -> Reply:
    await seen(ctx)
    return Reply(
        views.history_text(t, await ctx.core.conversations.history(ctx.caller)), private=True
    )


async def _model(ctx: CommandContext, t: Translator, args: str) -> Reply:
    if args.strip():
        model = await ctx.core.accounts.choose_chat_model(ctx.caller, args, ctx.event_id)
        return Reply(t("cmd.model_set", model=model.name))
    await seen(ctx)
    account = await ctx.core.accounts.resolve(ctx.caller)
    accounts = ctx.core.accounts
    return Reply(
        views.models_text(t, accounts.chat_models(account), accounts.current_chat_model(account))
    )


async def _lang(ctx: CommandContext, t: Translator, args: str) -> Reply:
    available = ", ".join((*available_languages(), "auto"))
    if not args.strip():
        await seen(ctx)
        return Reply(t("cmd.lang_current", language=t.language, available=available))
    account = await ctx.core.accounts.set_language(ctx.caller, args.strip(), ctx.event_id)
    new_t = Translator(ctx.core.accounts.language_of(account, ctx.caller))
    return Reply(new_t("cmd.lang_set", language=new_t.language))


async def _link(ctx: CommandContext, t: Translator, args: str) -> Reply:
    if args.strip():
        account = await ctx.core.accounts.link(ctx.caller, args, ctx.event_id)
        return Reply(t("cmd.linked", balance=format_credits(account.balance)), private=True)
    code = await ctx.core.accounts.create_link_code(ctx.caller, ctx.event_id)
    minutes = ctx.core.config.link_code_ttl_s // 60
    return Reply(t("cmd.link_code", code=code, minutes=minutes), private=True)


def _target(ctx: CommandContext, args: str) -> tuple[str, str]:
    """The first word names the user, unless the platform pointed at one (a reply)."""
    if ctx.reply_target:
        return ctx.reply_target, args.strip()
    head, _, rest = args.strip().partition(" ")
    return head, rest.strip()


async def _grant(ctx: CommandContext, t: Translator, args: str) -> Reply:
    user, rest = _target(ctx, args)
    amount, _, reason = rest.partition(" ")
    account = await ctx.core.admin.grant(ctx.caller, user, amount, reason.strip(), ctx.event_id)
    return Reply(
        t("cmd.granted", account=account.id, balance=format_credits(account.balance)), private=True
    )


async def _setrole(ctx: CommandContext, t: Translator, args: str) -> Reply:
    user, role = _target(ctx, args)
    account = await ctx.core.admin.set_role(ctx.caller, user, role, ctx.event_id)
    return Reply(t("cmd.role_set", account=account.id, role=account.role.value), private=True)


async def _ban(ctx: CommandContext, t: Translator, args: str) -> Reply:
    account = await ctx.core.admin.set_banned(ctx.caller, _target(ctx, args)[0], True, ctx.event_id)
    return Reply(t("cmd.banned", account=account.id), private=True)


async def _unban(ctx: CommandContext, t: Translator, args: str) -> Reply:
    account = await ctx.core.admin.set_banned(
        ctx.caller, _target(ctx, args)[0], False, ctx.event_id
    )
    return Reply(t("cmd.unbanned", account=account.id), private=True)


async def _user(ctx: CommandContext, t: Translator, args: str) -> Reply:
    await seen(ctx)
    view = await ctx.core.admin.view(ctx.caller, _target(ctx, args)[0])
    return Reply(views.account_text(t, view), private=True)


async def _stats(ctx: CommandContext, t: Translator, args: str) -> Reply:
    await seen(ctx)
    target = args.strip() or ctx.reply_target
    report = await ctx.core.admin.stats(ctx.caller, target)
    title = t("cmd.stats_chart_title") + (f" — {target}" if target else "")
    chart = await usage_chart(report, title, datetime.now(UTC).date())
    return Reply(views.stats_text(t, report), private=True, image=chart)


async def _join(ctx: CommandContext, t: Translator, args: str) -> Reply:
    account, created = await ctx.core.access.join(ctx.caller, args)
    if not created:
        return Reply(t("cmd.already_member"), private=True)
    return Reply(t("cmd.joined", balance=format_credits(account.balance)), private=True)


async def _rule(ctx: CommandContext, t: Translator, args: str, verdict: str) -> Reply:
    ref = ctx.reply_target or args.strip()
    subject = await ctx.core.access.set_rule(ctx.caller, ref, verdict, ctx.event_id)
    return Reply(t("cmd.allowed" if verdict == "allow" else "cmd.blocked", subject=subject))


async def _allow(ctx: CommandContext, t: Translator, args: str) -> Reply:
    return await _rule(ctx, t, args, "allow")


async def _block(ctx: CommandContext, t: Translator, args: str) -> Reply:
    return await _rule(ctx, t, args, "block")


async def _unlist(ctx: CommandContext, t: Translator, args: str) -> Reply:
    ref = ctx.reply_target or args.strip()
    return Reply(t("cmd.unlisted", subject=await ctx.core.access.unlist(ctx.caller, ref)))


async def _access(ctx: CommandContext, t: Translator, args: str) -> Reply:
    if not args.strip():
        await seen(ctx)
    view = await ctx.core.access.overview(ctx.caller, args, ctx.event_id)
    lines = [t("cmd.access_rule", verdict=r.verdict, subject=r.subject) for r in view.rules]
    rules = "\n".join(lines) or t("cmd.access_no_rules")
    return Reply(t("cmd.access_overview", mode=view.mode, rules=rules), private=True)


async def _invite(ctx: CommandContext, t: Translator, args: str) -> Reply:
    code = await ctx.core.access.invite(ctx.caller, args, ctx.event_id)
    return Reply(t("cmd.invite", code=code, uses=args.strip() or "1"), private=True)


async def _mute(ctx: CommandContext, t: Translator, args: str, muted: bool) -> Reply:
    if args.strip().lower() != "announcements":
        await seen(ctx)
        return Reply(t("cmd.mute_what"), private=True)
    await ctx.core.access.set_muted(ctx.caller, muted, ctx.event_id)
    return Reply(t("cmd.muted" if muted else "cmd.unmuted"), private=True)


async def _mute_on(ctx: CommandContext, t: Translator, args: str) -> Reply:
    return await _mute(ctx, t, args, True)


async def _mute_off(ctx: CommandContext, t: Translator, args: str) -> Reply:
    return await _mute(ctx, t, args, False)


async def _broadcast(ctx: CommandContext, t: Translator, args: str) -> Reply:
    announcements = ctx.core.announcements
    if args.strip().lower() == CONFIRM:
        started = await announcements.confirm(ctx.caller, None, ctx.event_id)
        return Reply(t("cmd.broadcast_started", id=started.id, people=started.people), private=True)
    draft = await announcements.draft(ctx.caller, args, ctx.event_id)
    audience = draft.audience or t("cmd.broadcast_everyone")
    text = t("cmd.broadcast_preview", audience=audience, people=draft.people, text=draft.text)
    return Reply(text, private=True, confirm_broadcast=draft.id)


async def _allowance(ctx: CommandContext, t: Translator, args: str) -> Reply:
    user, value = _target(ctx, args)
    account = await ctx.core.allowance_admin.set_override(ctx.caller, user, value, ctx.event_id)
    shown = account.allowance_override or t("cmd.allowance_default")
    return Reply(t("cmd.allowance_set", account=account.id, allowance=shown), private=True)


async def _usage(ctx: CommandContext, t: Translator, args: str) -> Reply:
    """``/usage`` (and ``/usage chart`` for a picture of the last 30 days)."""
    await seen(ctx)
    usage = await ctx.core.usage.own(ctx.caller)
    chart = None
    if args.strip().lower() == "chart":
        chart = await own_usage_chart(usage.days, t("cmd.usage_chart_title"), usage.today.date())
    return Reply(views.usage_text(t, usage), private=True, image=chart)


COMMANDS: dict[str, Handler] = {
    "start": _start,
    "help": _help,
    "balance": _balance,
    "reset": _reset,
    "history": _history,
    "model": _model,
    "lang": _lang,
    "link": _link,
    "usage": _usage,
    "grant": _grant,
    "setrole": _setrole,
    "ban": _ban,
    "unban": _unban,
    "user": _user,
    "stats": _stats,
    "allowance": _allowance,
    "join": _join,
    "allow": _allow,
    "block": _block,
    "unlist": _unlist,
    "access": _access,
    "invite": _invite,
    "mute": _mute_on,
    "unmute": _mute_off,
    "broadcast": _broadcast,
    **PERSONAL_COMMANDS,
}
__all__ = ["ADMIN_COMMANDS", "COMMANDS", "CommandContext", "Reply", "ReplyFile", "run_command"]
ADMIN_COMMANDS = frozenset(
    {
        "grant",
        "setrole",
        "ban",
        "unban",
        "user",
        "stats",
        "allowance",
        "allow",
        "block",
        "unlist",
        "access",
        "invite",
        "broadcast",
    }
)


async def run_command(ctx: CommandContext, name: str, args: str) -> Reply | None:
    """The reply to ``/name args``, or None when ``name`` is not a shared text command.
    Core errors propagate: each adapter turns them into words in its errors.py, and
    ``DuplicateEvent`` (a redelivered ``ctx.event_id``) into silence."""
    handler = COMMANDS.get(name.lower())
    if handler is None:
        return None
    t = await translator(ctx.core, ctx.caller)
    return await handler(ctx, t, clean_text(args))  # arguments reach lookups in the database
