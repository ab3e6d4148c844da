"""Core values → the JSON bodies of the API (and SSE events)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.models_config import ModelSpec
from core.money import format_credits
from core.ports import ApiKeyRecord, GrantRecord, UserEntry
from core.services.admin import StatsReport
from core.types import Account, Exchange, Feature, LedgerEntry, StatsRow, TextDone, Usage

JSON = dict[str, Any]


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def usage(value: Usage) -> JSON:
    return {
        "prompt_tokens": value.prompt_tokens,
        "completion_tokens": value.completion_tokens,
        "total_tokens": value.prompt_tokens + value.completion_tokens,
    }


def user(account: Account, identities: list[str]) -> JSON:
    api = [i.split(":", 1)[1] for i in identities if i.startswith("api:")]
    return {
        "id": account.id,
        "username": api[0] if api else None,
        "role": account.role.value,
        "banned": account.banned,
        "balance": format_credits(account.balance),
        "balance_micro": account.balance,
        "language": account.language,
        "chat_model": account.chat_model,
        "identities": identities,
        "created_at": account.created_at.isoformat(),
    }


def user_entry(entry: UserEntry) -> JSON:
    return user(entry.account, [str(i.key) for i in entry.identities])


def balance(account: Account) -> JSON:
    return {"balance": format_credits(account.balance), "balance_micro": account.balance}


def ask_result(request_id: str, done: TextDone) -> JSON:
    return {
        "request_id": request_id,
        "text": done.text,
        "outcome": done.outcome.value,
        "usage": usage(done.usage),
        "charge": format_credits(done.credits),
        "charge_micro": done.credits,
    }


def exchange(item: Exchange, account_id: int | None = None) -> JSON:
    body: JSON = {
        "id": item.request_id,
        "question": item.question,
        "answer": item.answer,
        "created_at": when(item.created_at),
    }
    if account_id is not None:
        body["account_id"] = account_id
    return body


def ledger_entry(entry: LedgerEntry) -> JSON:
    return {
        "amount_micro": entry.amount,
        "kind": entry.kind.value,
        "request_id": entry.request_id,
        "actor_account_id": entry.actor_account_id,
        "reason": entry.reason,
        "created_at": when(entry.created_at),
    }


def grant(record: GrantRecord, replayed: bool) -> JSON:
    return {
        "account_id": record.account_id,
        "amount_micro": record.amount,
        "balance": format_credits(record.balance),
        "balance_micro": record.balance,
        "reason": record.reason,
        "replayed": replayed,
        "created_at": record.created_at.isoformat(),
    }


def model(spec: ModelSpec) -> JSON:
    prices = {
        Feature.CHAT: {
            "input_per_1k_tokens": format_credits(spec.input_per_1k),
            "output_per_1k_tokens": format_credits(spec.output_per_1k),
        },
        Feature.IMAGE: {"per_image": format_credits(spec.per_image)},
        Feature.TTS: {"per_1k_chars": format_credits(spec.per_1k_chars)},
        Feature.STT: {"per_minute": format_credits(spec.per_minute)},
    }[spec.kind]
    return {"name": spec.name, "kind": spec.kind.value, "prices": prices}


def stats_row(row: StatsRow) -> JSON:
    return {
        "key": row.key,
        "requests": row.requests,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "credits_micro": row.credits,
        "errors": row.errors,
    }


def stats(report: StatsReport) -> JSON:
    return {
        period: {dim.value: [stats_row(r) for r in rows] for dim, rows in table.items()}
        for period, table in (("today", report.today), ("month", report.month))
    }


def api_key(record: ApiKeyRecord, key: str | None = None) -> JSON:
    body: JSON = {
        "id": record.id,
        "prefix": record.prefix,
        "name": record.name,
        "created_at": record.created_at.isoformat(),
    }
    if key is not None:
        body["key"] = key
    return body


def sse(event: str, data: JSON) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
