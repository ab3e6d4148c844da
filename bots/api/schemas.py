"""The JSON schemas of every request and response body (OpenAPI 3.1 / JSON Schema 2020-12);
``validation`` checks requests against these same objects."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
MAX_ID = 2**53 - 1


def ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], closed: bool = True, **properties: JSON) -> JSON:
    schema: JSON = {"type": "object", "properties": properties, "required": required}
    if closed:
        schema["additionalProperties"] = False
    return schema


def string(max_length: int = 200, min_length: int = 0, **extra: Any) -> JSON:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, **extra}


def nullable(schema: JSON) -> JSON:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


INT: JSON = {"type": "integer"}
ID: JSON = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
BOOL: JSON = {"type": "boolean"}
TIME: JSON = {"type": "string", "format": "date-time"}
CREDITS: JSON = {"type": "string", "description": "credits, two decimals for people"}
USERNAME: JSON = string(32, 3, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
PASSWORD: JSON = string(256, 8)
ROLE: JSON = {"type": "string", "enum": ["guest", "user", "admin"]}
USAGE: JSON = obj(
    ["prompt_tokens", "completion_tokens", "total_tokens"],
    prompt_tokens=INT,
    completion_tokens=INT,
    total_tokens=INT,
)

SCHEMAS: dict[str, JSON] = {
    "Error": obj(
        ["error"],
        error=obj(["code", "message"], code=string(64), message=string(2000)),
    ),
    "Credentials": obj(["username", "password"], username=USERNAME, password=PASSWORD),
    "RefreshRequest": obj(["refresh_token"], refresh_token=string(4096, 1)),
    "Tokens": obj(
        ["access_token", "refresh_token", "token_type", "expires_in"],
        access_token=string(4096),
        refresh_token=string(4096),
        token_type={"type": "string", "enum": ["bearer"]},
        expires_in=INT,
    ),
    "User": obj(
        [
            "id",
            "username",
            "role",
            "banned",
            "balance",
            "balance_micro",
            "language",
            "chat_model",
            "identities",
            "created_at",
        ],
        id=ID,
        username=nullable(string(32)),
        role=ROLE,
        banned=BOOL,
        balance=CREDITS,
        balance_micro=INT,
        language=nullable(string(16)),
        chat_model=nullable(string(200)),
        identities={"type": "array", "items": string(500)},
        created_at=TIME,
    ),
    "UserList": obj(
        ["items", "total", "offset", "limit"],
        items={"type": "array", "items": ref("User")},
        total=INT,
        offset=INT,
        limit=INT,
    ),
    "ProfileChange": {
        **obj(
            [],
            username=USERNAME,
            password=PASSWORD,
            current_password=string(256),
            language=nullable(string(16, 1)),
        ),
        "minProperties": 1,
    },
    "AdminUserChange": {**obj([], role=ROLE, banned=BOOL), "minProperties": 1},
    "AskRequest": obj(
        ["text"],
        text=string(100_000, 1),
        model=string(200, 1),
        chat_id=string(100, 1, pattern=r"^[A-Za-z0-9_.:-]+$"),
    ),
    "AskResult": obj(
        ["request_id", "text", "outcome", "usage", "charge", "charge_micro"],
        request_id=string(100),
        text={"type": "string"},
        outcome={"type": "string", "enum": ["ok", "stopped", "cut"]},
        usage=USAGE,
        charge=CREDITS,
        charge_micro=INT,
    ),
    "Exchange": obj(
        ["id", "question", "answer", "created_at"],
        id=string(100),
        question={"type": "string"},
        answer={"type": "string"},
        created_at=nullable(TIME),
        account_id=ID,
    ),
    "ExchangeList": obj(["items"], items={"type": "array", "items": ref("Exchange")}),
    "Balance": obj(["balance", "balance_micro"], balance=CREDITS, balance_micro=INT),
    "LinkCode": obj(["code", "expires_in"], code=string(16, 1), expires_in=INT),
    "LinkRequest": obj(["code"], code=string(16, 1)),
    "Grant": obj(
        ["amount"], amount=string(32, 1, pattern=r"^-?[0-9]+(\.[0-9]+)?$"), reason=string(500)
    ),
    "GrantResult": obj(
        ["account_id", "amount_micro", "balance", "balance_micro", "replayed", "created_at"],
        account_id=ID,
        amount_micro=INT,
        balance=CREDITS,
        balance_micro=INT,
        reason=nullable(string(500)),
        replayed=BOOL,
        created_at=TIME,
    ),
    "LedgerList": obj(
        ["items"],
        items={
            "type": "array",
            "items": obj(
                ["amount_micro", "kind", "created_at"],
                amount_micro=INT,
                kind=string(16),
                request_id=nullable(string(100)),
                actor_account_id=nullable(ID),
                reason=nullable(string(2000)),
                created_at=nullable(TIME),
            ),
        },
    ),
    "Model": obj(
        ["name", "kind", "prices"],
        name=string(200),
        kind={"type": "string", "enum": ["chat", "image", "tts", "stt"]},
        prices={"type": "object", "additionalProperties": {"type": "string"}},
    ),
    "ModelList": obj(["items"], items={"type": "array", "items": ref("Model")}),
    "Stats": obj(
        ["today", "month"],
        today={
            "type": "object",
            "additionalProperties": {"type": "array", "items": ref("StatsRow")},
        },
        month={
            "type": "object",
            "additionalProperties": {"type": "array", "items": ref("StatsRow")},
        },
    ),
    "StatsRow": obj(
        ["key", "requests", "prompt_tokens", "completion_tokens", "credits_micro", "errors"],
        key=string(200),
        requests=INT,
        prompt_tokens=INT,
        completion_tokens=INT,
        credits_micro=INT,
        errors=INT,
    ),
    "ApiKeyCreate": obj([], name=string(100)),
    "ApiKey": obj(
        ["id", "prefix", "created_at"],
        id=ID,
        prefix=string(16),
        name=nullable(string(100)),
        created_at=TIME,
        key={"type": "string", "description": "only in the answer to POST /api-keys"},
    ),
    "ApiKeyList": obj(["items"], items={"type": "array", "items": ref("ApiKey")}),
    "Health": obj(
        ["status", "database", "redis"],
        status={"type": "string", "enum": ["ok", "degraded"]},
        database={"type": "string", "enum": ["ok", "unavailable"]},
        redis={"type": "string", "enum": ["ok", "degraded", "off"]},
    ),
}
