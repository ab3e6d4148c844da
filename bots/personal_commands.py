"""The commands that shape how the bot talks to a person: ``/persona``, ``/instructions``,
``/voice``, ``/cost``, the ``/settings`` summary, and ``/export`` of the conversation.

Persona and instructions belong to the chat they are set in; voice and cost follow the
person everywhere (see core.services.chat_settings)."""

from __future__ import annotations

from datetime import UTC, datetime

from bots.command_context import CommandContext, Handler, Reply, ReplyFile, seen
from core.errors import BadArgument
from core.i18n import Translator
from core.money import format_credits
from core.ports import VoiceMode
from core.services.chat_settings import NO_PERSONA
from core.types import StoredMessage

CLEAR = frozenset({"clear", "off", "none", "reset"})
ON_OFF = {"on": True, "off": False}


def _on_off(t: Translator, on: bool) -> str:
    return t("cmd.on") if on else t("cmd.off")


async def _persona(ctx: CommandContext, t: Translator, args: str) -> Reply:
    chosen = args.strip()
    if chosen:
        persona = await ctx.core.chat_settings.choose_persona(
            ctx.caller, ctx.chat_id, chosen, ctx.event_id
        )
        if persona is None:
            return Reply(t("cmd.persona_cleared"))
        return Reply(t("cmd.persona_set", persona=persona.name))
    await seen(ctx)
    view = await ctx.core.chat_settings.view(ctx.caller, ctx.chat_id)
    if not view.personas:
        return Reply(t("cmd.persona_none_available"))
    current = view.effective.persona
    lines = [t("cmd.persona_header", current=current.name if current else t("cmd.none"))]
    for persona in view.personas:
        mark = "•" if current is not None and persona.name == current.name else "◦"
        lines.append(f"{mark} {persona.name} — {persona.description}".rstrip(" —"))
    lines.append(t("cmd.persona_usage", clear=sorted(NO_PERSONA)[0]))
    return Reply("\n".join(lines))


async def _instructions(ctx: CommandContext, t: Translator, args: str) -> Reply:
    text = args.strip()
    if text.casefold() in CLEAR:
        await ctx.core.chat_settings.set_instructions(ctx.caller, ctx.chat_id, None, ctx.event_id)
        return Reply(t("cmd.instructions_cleared"))
    if text:
        await ctx.core.chat_settings.set_instructions(ctx.caller, ctx.chat_id, text, ctx.event_id)
        return Reply(t("cmd.instructions_set"))
    await seen(ctx)
    view = await ctx.core.chat_settings.view(ctx.caller, ctx.chat_id)
    current = view.effective.instructions
    if current is None:
        return Reply(t("cmd.instructions_none"))
    return Reply(t("cmd.instructions_current", text=current), private=True)


async def _voice(ctx: CommandContext, t: Translator, args: str) -> Reply:
    wanted = args.strip().casefold()
    if not wanted:
        await seen(ctx)
        view = await ctx.core.chat_settings.view(ctx.caller, ctx.chat_id)
        return Reply(t("cmd.voice_current", mode=t(f"cmd.voice_{view.effective.voice.value}")))
    try:
        mode = VoiceMode(wanted)
    except ValueError:
        raise BadArgument(detail="/voice on|off|auto") from None
    await ctx.core.chat_settings.set_voice(ctx.caller, mode, ctx.event_id)
    return Reply(t("cmd.voice_set", mode=t(f"cmd.voice_{mode.value}")))


async def _cost(ctx: CommandContext, t: Translator, args: str) -> Reply:
    wanted = args.strip().casefold()
    if not wanted:
        await seen(ctx)
        view = await ctx.core.chat_settings.view(ctx.caller, ctx.chat_id)
        return Reply(t("cmd.cost_current", state=_on_off(t, view.effective.show_cost)))
    if wanted not in ON_OFF:
        raise BadArgument(detail="/cost on|off")
    await ctx.core.chat_settings.set_cost_line(ctx.caller, ON_OFF[wanted], ctx.event_id)
    return Reply(t("cmd.cost_set", state=_on_off(t, ON_OFF[wanted])))


async def _settings(ctx: CommandContext, t: Translator, args: str) -> Reply:
    await seen(ctx)
    view = await ctx.core.chat_settings.view(ctx.caller, ctx.chat_id)
    model = ctx.core.accounts.current_chat_model(view.account)
    effective = view.effective
    if model is not None:
        model = effective.model(view.account, model, ctx.core.models)
    text = t(
        "cmd.settings",
        persona=effective.persona.name if effective.persona else t("cmd.none"),
        instructions=effective.instructions or t("cmd.none"),
        voice=t(f"cmd.voice_{effective.voice.value}"),
        cost=_on_off(t, effective.show_cost),
        model=model.name if model else t("cmd.none"),
        balance=format_credits(view.account.balance),
        language=t.language,
    )
    return Reply(text, private=True)


def transcript_markdown(t: Translator, messages: list[StoredMessage]) -> str:
    """The conversation as Markdown: one heading per message, the text as it was said."""
    lines = [f"# {t('cmd.export_title')}", ""]
    for message in messages:
        who = t("cmd.export_you") if message.role == "user" else t("cmd.export_bot")
        when = message.created_at.astimezone(UTC) if message.created_at else None
        stamp = f" — {when:%Y-%m-%d %H:%M} UTC" if when else ""
        lines += [f"## {who}{stamp}", "", message.content.strip(), ""]
    return "\n".join(lines)


async def _export(ctx: CommandContext, t: Translator, args: str) -> Reply:
    messages = await ctx.core.conversations.export(ctx.caller, ctx.chat_id, ctx.event_id)
    if not messages:
        return Reply(t("cmd.export_empty"), private=True)
    name = f"conversation-{datetime.now(UTC):%Y%m%d-%H%M}.md"
    data = transcript_markdown(t, messages).encode("utf-8")
    text = t("cmd.export_sent", count=len(messages))
    return Reply(text, private=True, file=ReplyFile(name, data))


PERSONAL_COMMANDS: dict[str, Handler] = {
    "persona": _persona,
    "instructions": _instructions,
    "voice": _voice,
    "cost": _cost,
    "settings": _settings,
    "export": _export,
}
