"""The OpenAPI 3.1 document, written from the registered endpoints and their pydantic
models: request bodies with their validation schema, answers with their serialization
schema, every model once under ``components/schemas``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bots.api.errors import ERROR_STATUSES
from bots.api.errors_openai import V1_PREFIX, OpenAIError
from bots.api.models import Error
from bots.api.registry import JSON, Content, Endpoint, Param

REF = "#/components/schemas/{model}"
Mode = Literal["validation", "serialization"]

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


def _models(endpoints: Iterable[Endpoint]) -> list[tuple[type[BaseModel], Mode]]:
    found: dict[tuple[type[BaseModel], Mode], None] = {
        (Error, "serialization"): None,
        (OpenAIError, "serialization"): None,  # every error under /v1/
    }
    for spec in endpoints:
        for model in (spec.body, spec.form):
            if model is not None:
                found[(model, "validation")] = None
        for _text, content in spec.ok.values():
            for schema in content.values():
                if isinstance(schema, type):
                    found[(schema, "serialization")] = None
    return list(found)


class _Schemas:
    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        refs, definitions = models_json_schema(_models(endpoints), ref_template=REF)
        self._refs = refs
        self.components: dict[str, JSON] = definitions.get("$defs", {})

    def ref(self, model: type[BaseModel], mode: Mode) -> JSON:
        return dict(self._refs[(model, mode)])

    def content(self, content: Content) -> JSON:
        return {
            media: {
                "schema": self.ref(schema, "serialization")
                if isinstance(schema, type)
                else dict(schema)
            }
            for media, schema in content.items()
        }


def _parameter(param: Param, where: str) -> JSON:
    return {
        "name": param.name,
        "in": where,
        "required": where == "path",
        "schema": param.schema,
        **({"description": param.description} if param.description else {}),
    }


def _operation(spec: Endpoint, schemas: _Schemas) -> JSON:
    responses: dict[str, Any] = {
        str(status): {
            "description": text,
            **({"content": schemas.content(content)} if content else {}),
        }
        for status, (text, content) in spec.ok.items()
    }
    shape = OpenAIError if spec.path.startswith(V1_PREFIX) else Error
    error = {"application/json": {"schema": schemas.ref(shape, "serialization")}}
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
        content = {"application/json": {"schema": schemas.ref(spec.body, "validation")}}
        operation["requestBody"] = {"required": True, "content": content}
    elif spec.form is not None:
        content = {"multipart/form-data": {"schema": schemas.ref(spec.form, "validation")}}
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def build_document(endpoints: Sequence[Endpoint], version: str = "0.1.0") -> JSON:
    schemas = _Schemas(endpoints)
    paths: dict[str, dict[str, JSON]] = {}
    for spec in endpoints:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, schemas)
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
            "schemas": schemas.components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "http", "scheme": "bearer", "description": "sb-... API key"},
            },
        },
    }
