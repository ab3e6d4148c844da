"""Turning core results into the bot's translated words, the same for every adapter."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import CoreError
from core.i18n import Translator
from core.models_config import ModelSpec
from core.money import format_credits
from core.services.admin import AccountView, StatsReport
from core.services.allowances import NextAllowance
from core.services.usage import OwnUsage
from core.types import Account, Exchange, StatsDimension, StatsRow

PREVIEW_CHARS = 300


def error_text(t: Translator, exc: CoreError) -> str:
    return t(exc.key, **exc.params)


def balance_text(t: Translator, account: Account, model: ModelSpec | None) -> str:
    return t(
        "cmd.balance",
        balance=format_credits(account.balance),
        role=account.role.value,
        model=model.name if model else t("cmd.none"),
    )


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def history_text(t: Translator, exchanges: list[Exchange]) -> str:
    if not exchanges:
        return t("cmd.history_empty")
    items = (
        t(
            "cmd.history_item",
            when=e.created_at.strftime("%Y-%m-%d %H:%M") if e.created_at else "",
            question=_preview(e.question),
            answer=_preview(e.answer),
        )
        for e in exchanges
    )
    return "\n\n".join(items)


def models_text(t: Translator, models: Iterable[ModelSpec], current: ModelSpec | None) -> str:
    lines = [t("cmd.models_header", current=current.name if current else t("cmd.none"))]
    for m in models:
        mark = "•" if current is not None and m.name == current.name else "◦"
        lines.append(
            t(
                "cmd.model_line",
                mark=mark,
                name=m.name,
                input=format_credits(m.input_per_1k),
                output=format_credits(m.output_per_1k),
            )
        )
    return "\n".join(lines)


def account_text(t: Translator, view: AccountView) -> str:
    account = view.account
    recent = "\n".join(
        f"  {u.created_at:%Y-%m-%d %H:%M} {u.platform} {u.feature.value} {u.model} "
        f"{format_credits(u.credits)} {u.outcome.value}"
        for u in view.recent
    )
    return t(
        "cmd.user_info",
        account=account.id,
        role=account.role.value,
        banned=t("cmd.user_banned_mark") if account.banned else "",
        balance=format_credits(account.balance),
        identities=", ".join(
            str(i.key) + (f" ({i.display_name})" if i.display_name else "") for i in view.identities
        )
        or t("cmd.none"),
        recent=recent or "  " + t("cmd.none"),
    )


def _totals(t: Translator, period: str, rows: list[StatsRow]) -> str:
    return t(
        "cmd.stats_header",
        period=period,
        requests=sum(r.requests for r in rows),
        tokens=sum(r.prompt_tokens + r.completion_tokens for r in rows),
        credits=format_credits(sum(r.credits for r in rows)),
        errors=sum(r.errors for r in rows),
    )


def stats_text(t: Translator, report: StatsReport) -> str:
    lines = [_totals(t, t("cmd.stats_today"), report.today[StatsDimension.FEATURE])]
    lines.append(_totals(t, t("cmd.stats_month"), report.month[StatsDimension.FEATURE]))
    for dim in (StatsDimension.MODEL, StatsDimension.PLATFORM, StatsDimension.FEATURE):
        rows = report.month[dim]
        if rows:
            lines.append(t("cmd.stats_by", dimension=dim.value))
            lines.extend(
                t(
                    "cmd.stats_row",
                    key=r.key,
                    requests=r.requests,
                    credits=format_credits(r.credits),
                    errors=r.errors,
                )
                for r in rows
            )
    return "\n".join(lines)


def usage_text(t: Translator, usage: OwnUsage) -> str:
    """/usage: spending today, this week and this month by feature and model, and the
    next allowance."""
    lines = [t("cmd.usage_header", balance=format_credits(usage.account.balance))]
    for window in usage.windows:
        lines.append(
            t(
                f"cmd.usage_{window.name}",
                credits=format_credits(window.credits),
                requests=window.requests,
            )
        )
        lines.extend(
            t(
                "cmd.usage_line",
                feature=line.feature,
                model=line.model,
                credits=format_credits(line.credits),
                requests=line.requests,
            )
            for line in window.lines
        )
    lines.append(next_allowance_text(t, usage.next_allowance))
    return "\n".join(lines)


def next_allowance_text(t: Translator, next_: NextAllowance | None) -> str:
    if next_ is None:
        return t("cmd.usage_no_allowance")
    return t(
        f"cmd.usage_next_{next_.mode.value}",
        amount=format_credits(next_.amount),
        period=next_.period.value,
        at=next_.at.strftime("%Y-%m-%d %H:%M %Z"),
    )
