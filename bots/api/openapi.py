"""The OpenAPI 3.1 document, written from the endpoint declarations and the schemas."""

from __future__ import annotations

from typing import Any

from bots.api.errors import ERROR_STATUSES
from bots.api.registry import ENDPOINTS, Endpoint, Param
from bots.api.schemas import JSON, SCHEMAS, ref
from bots.api.schemas_openai import OPENAI_SCHEMAS

COMPONENTS: dict[str, JSON] = {**SCHEMAS, **OPENAI_SCHEMAS}

_ERROR_TEXT = {
    400: "Malformed request: bad JSON, a field of the wrong type, an unknown field",
    401: "Missing, invalid, expired or revoked token or API key",
    402: "Not enough credits",
    403: "Not allowed for this role, or the account is banned",
    404: "No such resource, user or model",
    405: "Method not allowed",
    409: "Conflict (username taken, Idempotency-Key reused with another body)",
    413: "Body too large",
    415: "Unsupported content type",
    422: "Well-formed but refused by a rule the schema cannot express (empty or too long "
    "input for the configured limits, a zero amount, an admin banning themselves)",
    429: "Too many requests or failed logins (see Retry-After)",
    500: "Internal error",
    502: "The model server failed",
    503: "Storage or model server unavailable",
    504: "The model server timed out",
}


def _parameter(param: Param, where: str) -> JSON:
    return {
        "name": param.name,
        "in": where,
        "required": where == "path",
        "schema": param.schema,
        **({"description": param.description} if param.description else {}),
    }


def _operation(spec: Endpoint) -> JSON:
    responses: dict[str, Any] = {
        str(status): {"description": text, **({"content": dict(content)} if content else {})}
        for status, (text, content) in spec.ok.items()
    }
    error = {"application/json": {"schema": ref("Error")}}
    for status in ERROR_STATUSES:
        responses.setdefault(str(status), {"description": _ERROR_TEXT[status], "content": error})
    operation: JSON = {
        "operationId": spec.handler.__name__,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": [
            *(_parameter(p, "path") for p in spec.path_params),
            *(_parameter(p, "query") for p in spec.query),
            *(_parameter(p, "header") for p in spec.headers),
        ],
        "responses": responses,
    }
    if spec.auth == "user":
        operation["security"] = [{"bearerAuth": []}]
    elif spec.auth == "user_or_key":
        operation["security"] = [{"bearerAuth": []}, {"apiKey": []}]
    if spec.body is not None:
        if spec.body.startswith("multipart:"):
            content = {"multipart/form-data": {"schema": ref(spec.body.split(":", 1)[1])}}
        else:
            content = {"application/json": {"schema": ref(spec.body)}}
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def build_document(version: str = "0.1.0") -> JSON:
    paths: dict[str, dict[str, JSON]] = {}
    for spec in ENDPOINTS:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard API",
            "version": version,
            "description": "Accounts, credits and chat over HTTP, and an OpenAI-compatible "
            "gateway under /v1. Log in at /auth/login and send the access token as "
            "`Authorization: Bearer <token>`; /v1 also takes an API key (`sb-...`).",
        },
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "http", "scheme": "bearer", "description": "sb-... API key"},
            },
        },
    }
