"""The API's pydantic bodies check what the published document says, and the document is
written from the explicitly registered routes (no import-time registry)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bots.api import models as m
from bots.api import models_gateway as gw
from bots.api import models_openai as oai
from bots.api.app import routes
from bots.api.mapping import profile_change
from bots.api.openapi import build_document


def test_routes_are_a_fresh_explicit_list_and_the_document_has_each_once() -> None:
    first, second = routes(), routes()
    keys = [(spec.method, spec.path) for spec in first]
    assert keys == [(spec.method, spec.path) for spec in second] and first is not second
    assert len(keys) == len(set(keys)) >= 25
    document = build_document(first)
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == len(keys)
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    schemas = document["components"]["schemas"]
    for spec in first:
        if spec.body is not None:
            # Closed bodies, but for the /v1 pass-through ones: every field goes upstream.
            extra = schemas[spec.body.__name__].get("additionalProperties")
            if issubclass(spec.body, gw.PassThrough) or spec.path == "/v1/chat/completions":
                assert extra in (None, True)
            else:
                assert extra is False


def test_pass_through_bodies_keep_unknown_fields_and_check_the_ones_billing_reads() -> None:
    body = gw.CompletionRequest.model_validate_json(
        '{"model": "m", "prompt": "hi", "logit_bias": {"50256": -100}, "echo": true}'
    )
    assert body.model_extra == {"logit_bias": {"50256": -100}, "echo": True}
    for raw in (
        '{"model": "m", "prompt": "hi", "n": "2"}',  # no coercion
        '{"model": "m", "prompt": "hi", "max_tokens": 0}',
        '{"model": "m", "prompt": ""}',
        '{"prompt": "hi"}',
    ):
        with pytest.raises(ValidationError):
            gw.CompletionRequest.model_validate_json(raw)


@pytest.mark.parametrize(
    "raw",
    [
        '{"username": "alice", "password": 12345678}',  # no coercion of a number
        '{"username": "alice", "password": "long enough", "admin": true}',  # unknown field
        '{"username": "a", "password": "long enough"}',  # too short
        '{"username": null, "password": "long enough"}',
        "[1, 2]",
        "{not json",
    ],
)
def test_bodies_refuse_what_the_schema_refuses(raw: str) -> None:
    with pytest.raises(ValidationError):
        m.Credentials.model_validate_json(raw)


def test_optional_fields_may_be_left_out_but_only_nullable_ones_be_null() -> None:
    with pytest.raises(ValidationError):
        m.ProfileChange.model_validate_json("{}")  # minProperties 1
    with pytest.raises(ValidationError):
        m.ProfileChange.model_validate_json('{"username": null}')
    auto = profile_change(m.ProfileChange.model_validate_json('{"language": null}'))
    assert auto.language is None and auto.language_set
    unchanged = profile_change(m.ProfileChange.model_validate_json('{"password": "12345678"}'))
    assert not unchanged.language_set
    schema = m.ProfileChange.model_json_schema()
    assert schema["minProperties"] == 1
    assert schema["properties"]["username"]["type"] == "string"  # null not offered


def test_integers_follow_json_schema() -> None:
    base = '{"model": "x", "messages": [{"role": "user", "content": "hi"}], "max_tokens": %s}'
    assert oai.ChatCompletionRequest.model_validate_json(base % "5.0").max_tokens == 5
    for bad in ("true", '"5"', "1.5", "0", "1e7"):
        with pytest.raises(ValidationError):
            oai.ChatCompletionRequest.model_validate_json(base % bad)
    limits = oai.ChatCompletionRequest.model_json_schema()["properties"]["max_tokens"]
    assert {"type": "integer", "minimum": 1, "maximum": 1_000_000} in [
        {k: v for k, v in option.items() if k != "title"} for option in limits["anyOf"]
    ]
