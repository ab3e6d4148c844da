"""Core values → the response models of the API (and the bytes of SSE events)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from aiohttp import web
from pydantic import BaseModel

from bots.api import models as m
from bots.api import models_chat as mc
from bots.api.errors import core_error, error_body
from core.errors import CoreError
from core.models_config import ModelSpec
from core.money import format_credits
from core.ports import ApiKeyRecord, GrantRecord, UserEntry
from core.services.admin import StatsReport
from core.services.usage import OwnUsage, SpendWindow
from core.types import (
    Account,
    Exchange,
    Feature,
    LedgerEntry,
    Outcome,
    StatsDimension,
    StatsRow,
    TextDone,
    Usage,
)


def json(body: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=body.model_dump_json(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


# A finished answer is one of these (failed and refused ones raise instead).
_OUTCOMES: dict[Outcome, m.OutcomeName] = {
    Outcome.OK: "ok",
    Outcome.STOPPED: "stopped",
    Outcome.CUT: "cut",
}


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def usage(value: Usage) -> m.Usage:
    return m.Usage(
        prompt_tokens=value.prompt_tokens,
        completion_tokens=value.completion_tokens,
        total_tokens=value.prompt_tokens + value.completion_tokens,
    )


def user(account: Account, identities: list[str]) -> m.User:
    api = [i.split(":", 1)[1] for i in identities if i.startswith("api:")]
    return m.User(
        id=account.id,
        username=api[0] if api else None,
        role=account.role.value,
        banned=account.banned,
        balance=format_credits(account.balance),
        balance_micro=account.balance,
        language=account.language,
        chat_model=account.chat_model,
        identities=identities,
        created_at=account.created_at.isoformat(),
    )


def user_entry(entry: UserEntry) -> m.User:
    return user(entry.account, [str(i.key) for i in entry.identities])


def balance(account: Account) -> mc.Balance:
    return mc.Balance(balance=format_credits(account.balance), balance_micro=account.balance)


def ask_result(request_id: str, done: TextDone) -> mc.AskResult:
    return mc.AskResult(
        request_id=request_id,
        text=done.text,
        outcome=_OUTCOMES[done.outcome],
        usage=usage(done.usage),
        charge=format_credits(done.credits),
        charge_micro=done.credits,
        shortened=done.shortened,
    )


def exchange(item: Exchange, account_id: int | None = None) -> mc.Exchange:
    return mc.Exchange(
        id=item.request_id,
        question=item.question,
        answer=item.answer,
        created_at=when(item.created_at),
        account_id=account_id,
    )


def ledger_entry(entry: LedgerEntry) -> m.LedgerRow:
    return m.LedgerRow(
        amount_micro=entry.amount,
        kind=entry.kind.value,
        request_id=entry.request_id,
        actor_account_id=entry.actor_account_id,
        reason=entry.reason,
        created_at=when(entry.created_at),
    )


def grant(record: GrantRecord, replayed: bool) -> m.GrantResult:
    return m.GrantResult(
        account_id=record.account_id,
        amount_micro=record.amount,
        balance=format_credits(record.balance),
        balance_micro=record.balance,
        reason=record.reason,
        replayed=replayed,
        created_at=record.created_at.isoformat(),
    )


def model(spec: ModelSpec) -> mc.Model:
    kind = spec.kind
    if kind is Feature.FILES:  # the models file refuses it: no model serves uploads
        raise ValueError(f"model {spec.name} cannot be of kind files")
    prices = {
        Feature.CHAT: {
            "input_per_1k_tokens": format_credits(spec.input_per_1k),
            "output_per_1k_tokens": format_credits(spec.output_per_1k),
        },
        Feature.IMAGE: {"per_image": format_credits(spec.per_image)},
        Feature.TTS: {"per_1k_chars": format_credits(spec.per_1k_chars)},
        Feature.STT: {"per_minute": format_credits(spec.per_minute)},
        Feature.EMBEDDING: {"input_per_1k_tokens": format_credits(spec.input_per_1k)},
    }[kind]
    return mc.Model(name=spec.name, kind=cast(mc.ModelKind, kind.value), prices=prices)


def stats_row(row: StatsRow) -> mc.StatsRow:
    return mc.StatsRow(
        key=row.key,
        requests=row.requests,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        credits_micro=row.credits,
        errors=row.errors,
    )


def _stats_table(table: dict[StatsDimension, list[StatsRow]]) -> dict[str, list[mc.StatsRow]]:
    return {dim.value: [stats_row(r) for r in rows] for dim, rows in table.items()}


def stats(report: StatsReport) -> mc.Stats:
    return mc.Stats(today=_stats_table(report.today), month=_stats_table(report.month))


def api_key(record: ApiKeyRecord, now: datetime, key: str | None = None) -> m.ApiKey:
    budget = record.budget
    return m.ApiKey(
        id=record.id,
        prefix=record.prefix,
        name=record.name,
        created_at=record.created_at.isoformat(),
        budget_micro=budget,
        spent_micro=record.spent,
        remaining_micro=None if budget is None else max(0, budget - record.spent),
        expires_at=_iso(record.expires_at),
        expired=record.limits.expired(now),
        models=None if record.models is None else sorted(record.models),
        requests_per_minute=record.per_minute,
        requests=record.requests,
        last_used_at=_iso(record.last_used_at),
        key=key,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def sse(event: str, data: BaseModel) -> bytes:
    return f"event: {event}\ndata: {data.model_dump_json()}\n\n".encode()


def sse_data(data: BaseModel | str) -> bytes:
    """An event without a name, as OpenAI streams: ``data: {...}`` (or ``data: [DONE]``)."""
    payload = data if isinstance(data, str) else data.model_dump_json()
    return f"data: {payload}\n\n".encode()


def _error(exc: CoreError) -> m.Error:
    _status, code, message = core_error(exc)
    return error_body(code, message)


def sse_error(exc: CoreError) -> bytes:
    """The ``error`` event that ends an /ask stream the model failed after it opened."""
    return sse("error", _error(exc))


def sse_data_error(exc: CoreError) -> bytes:
    # OpenAI's clients read a data object with an "error" key as a failed stream.
    return sse_data(_error(exc))


def _window(window: SpendWindow) -> m.UsageWindow:
    lines = [
        m.UsageLine(
            feature=line.feature,
            model=line.model,
            requests=line.requests,
            credits=format_credits(line.credits),
            credits_micro=line.credits,
        )
        for line in window.lines
    ]
    return m.UsageWindow(
        since=window.since.isoformat(),
        requests=window.requests,
        credits=format_credits(window.credits),
        credits_micro=window.credits,
        lines=lines,
    )


def own_usage(usage: OwnUsage) -> m.OwnUsage:
    windows = {w.name: _window(w) for w in usage.windows}
    next_ = usage.next_allowance
    return m.OwnUsage(
        balance=format_credits(usage.account.balance),
        balance_micro=usage.account.balance,
        today=windows["today"],
        week=windows["week"],
        month=windows["month"],
        next_allowance=None
        if next_ is None
        else m.NextAllowance(
            period=next_.period.value,
            mode=next_.mode.value,
            amount=format_credits(next_.amount),
            amount_micro=next_.amount,
            at=next_.at.isoformat(),
        ),
        days=[
            m.UsageDay(day=d.key, requests=d.requests, credits_micro=d.credits) for d in usage.days
        ],
    )
