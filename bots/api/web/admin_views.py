"""What the admin console's endpoints answer, as JSON: users, one user's page, usage
series, topics, the system — amounts formatted like ``/balance``, times in ISO 8601
(the page shows them in the browser's locale)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.i18n import Translator
from core.models_config import ModelSpec
from core.money import MICRO, format_credits
from core.ports import ApiKeyRecord
from core.services.admin_console import ConsoleUser, DailyRow, SystemReport, UsageReport, UserPage
from core.services.topics import TopicReport
from core.types import Feature, StatsRow

JSON = dict[str, Any]

# The console's words (core/i18n, section [web], keys admin_*).
WORDS = (
    "title",
    "refused",
    "go_chat",
    "nav",
    "users",
    "usage",
    "system",
    "search",
    "search_hint",
    "col_user",
    "col_platforms",
    "identities",
    "col_role",
    "col_balance",
    "col_banned",
    "col_last_active",
    "never",
    "yes",
    "no",
    "found",
    "back",
    "role",
    "save_role",
    "ban",
    "unban",
    "banned_flag",
    "amount",
    "reason",
    "grant",
    "granted",
    "replayed",
    "saved",
    "ledger",
    "questions",
    "col_when",
    "col_kind",
    "col_amount",
    "col_reason",
    "col_question",
    "col_answer",
    "nothing",
    "requests_by_platform",
    "credits_by_platform",
    "requests_by_model",
    "credits_by_model",
    "errors_by_day",
    "totals",
    "requests",
    "credits",
    "errors",
    "error_rate",
    "tokens",
    "topics",
    "topics_from",
    "topic_count",
    "database",
    "redis",
    "open_reservations",
    "models",
    "version",
    "col_model",
    "col_kind_model",
    "col_price",
    "chart_label",
    "previous",
    "next",
    "failed",
    "access",
    "mode",
    "mode_open",
    "mode_closed",
    "close_bot",
    "open_bot",
    "rules",
    "subject",
    "subject_hint",
    "verdict",
    "allow",
    "block",
    "add_rule",
    "remove",
    "invites",
    "uses",
    "create_invite",
    "col_code",
    "col_uses_left",
    "invite_made",
    "keys",
    "col_name",
    "col_prefix",
    "col_created",
    "col_budget",
    "col_spent",
    "col_expires",
    "col_models",
    "col_per_minute",
    "col_requests",
    "col_last_used",
    "no_keys",
    "any_model",
    "no_limit",
    "expired",
    "revoke",
    "revoke_confirm",
    "key_revoked",
)


def words(t: Translator) -> dict[str, str]:
    return {key: t(f"web.admin_{key}") for key in WORDS}


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def user(item: ConsoleUser) -> JSON:
    account = item.entry.account
    identities = [str(i.key) for i in item.entry.identities]
    names = [i.key.user_id for i in item.entry.identities if i.key.platform == "api"]
    shown = [i.display_name for i in item.entry.identities if i.display_name]
    return {
        "id": account.id,
        "username": names[0] if names else (shown[0] if shown else f"#{account.id}"),
        "identities": identities,
        "platforms": sorted({i.key.platform for i in item.entry.identities}),
        "role": account.role.value,
        "balance": format_credits(account.balance),
        "banned": account.banned,
        "last_active": _when(item.last_active),
        "created_at": account.created_at.isoformat(),
    }


def user_page(page: UserPage) -> JSON:
    return {
        "user": user(page.user),
        "ledger": [
            {
                "created_at": _when(e.created_at),
                "kind": e.kind.value,
                "amount": format_credits(e.amount),
                "reason": e.reason or "",
                "actor": e.actor_account_id,
            }
            for e in page.ledger
        ],
        "questions": [
            {"created_at": _when(x.created_at), "question": x.question, "answer": x.answer}
            for x in page.questions
        ],
    }


def api_keys(found: list[ApiKeyRecord], now: datetime | None = None) -> JSON:
    """The keys' prefixes, limits and use; there is no secret to leak (only its digest is
    stored). None is "no limit"; amounts are formatted like ``/balance``."""
    now = now or datetime.now(UTC)
    return {
        "keys": [
            {
                "id": k.id,
                "name": k.name or "",
                "prefix": k.prefix,
                "created_at": _when(k.created_at),
                "budget": None if k.budget is None else format_credits(k.budget),
                "spent": format_credits(k.spent),
                "expires_at": _when(k.expires_at),
                "expired": k.limits.expired(now),
                "models": None if k.models is None else sorted(k.models),
                "per_minute": k.per_minute,
                "requests": k.requests,
                "last_used_at": _when(k.last_used_at),
            }
            for k in found
        ]
    }


def _credits(micro: int) -> float:
    return micro / MICRO  # for drawing only; shown amounts use format_credits


def _daily(rows: list[DailyRow]) -> list[JSON]:
    return [
        {
            "day": r.day,
            "key": r.key,
            "requests": r.row.requests,
            "credits": _credits(r.row.credits),
            "errors": r.row.errors,
        }
        for r in rows
    ]


def _totals(row: StatsRow) -> JSON:
    rate = row.errors / row.requests if row.requests else 0.0
    return {
        "requests": row.requests,
        "credits": format_credits(row.credits),
        "errors": row.errors,
        "error_rate": f"{rate:.1%}",
        "tokens": row.prompt_tokens + row.completion_tokens,
    }


def usage(report: UsageReport) -> JSON:
    return {
        "days": report.days,
        "by_platform": _daily(report.by_platform),
        "by_model": _daily(report.by_model),
        "per_day": [
            {
                "day": r.key,
                "requests": r.requests,
                "errors": r.errors,
                "credits": _credits(r.credits),
            }
            for r in report.per_day
        ],
        "totals": _totals(report.totals),
    }


def topics(report: TopicReport) -> JSON:
    return {
        "topics": [{"phrase": t.phrase, "questions": t.questions} for t in report.topics],
        "questions": report.questions,
        "computed_at": report.computed_at.isoformat(),
    }


def _price(t: Translator, model: ModelSpec) -> str:
    if model.kind is Feature.IMAGE:
        return t("web.admin_price_image", price=format_credits(model.per_image))
    if model.per_1k_chars:
        return t("web.admin_price_chars", price=format_credits(model.per_1k_chars))
    if model.per_minute:
        return t("web.admin_price_minute", price=format_credits(model.per_minute))
    return t(
        "web.admin_price_tokens",
        input=format_credits(model.input_per_1k),
        output=format_credits(model.output_per_1k),
    )


def system(t: Translator, report: SystemReport, version: str) -> JSON:
    return {
        "database": report.database,
        "redis": report.redis,
        "open_reservations": report.open_reservations,
        "models": [
            {
                "name": m.name,
                "kind": m.kind.value,
                "provider": m.provider,
                "roles": sorted(r.value for r in m.roles),
                "price": _price(t, m),
            }
            for m in report.models
        ],
        "version": version,
    }
