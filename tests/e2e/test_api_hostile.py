"""Hostile input on the HTTP API (/ask and /v1/chat/completions): bodies that are not
the endpoint's JSON are refused with a JSON 4xx before anything is reserved; hostile texts
are answered with the text cleaned by /ask (or refused with a 4xx) and passed through
unchanged by /v1 (the client's body is the upstream's), and no hold is left open."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.api_harness import Api, running_api
from tests.hostile_inputs import BODIES, TEXTS, open_holds, tracebacks, watch_logs

WRONG_SHAPES: dict[str, list[Any]] = {
    "/ask": [{}, {"text": 5}, {"text": ["a"]}, {"text": {"x": 1}}, {"text": None}],
    "/v1/chat/completions": [
        {},
        {"messages": "hi"},
        {"messages": [{"role": "user"}]},
        {"messages": [{"role": 7, "content": "hi"}]},
        {"messages": [{"role": "user", "content": {"deep": True}}]},
        {"messages": [{"role": "user", "content": "hi"}], "stream": "maybe"},
    ],
}


def ask_body(path: str, text: str) -> dict[str, Any]:
    if path == "/ask":
        return {"text": text}
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}


def answer_text(path: str, body: Any) -> str:
    if path == "/ask":
        return str(body["text"])
    return str(body["choices"][0]["message"]["content"])


async def post(api: Api, path: str, token: str, body: bytes, content_type: str) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    async with api.http.post(f"{api.base_url}{path}", data=body, headers=headers) as r:
        payload = await r.json() if r.content_type == "application/json" else await r.read()
        return r.status, r.content_type, payload


@pytest.mark.postgres
@pytest.mark.parametrize("path", ["/ask", "/v1/chat/completions"])
async def test_hostile_bodies_are_refused_and_texts_answered_clean(
    pg_url: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    watch_logs(caplog)
    async with running_api(pg_url) as api:
        _, token = await api.user("mallory")
        bodies = [(b.name, b.body, b.content_type) for b in BODIES] + [
            (f"shape {shape}", json.dumps(shape).encode(), "application/json")
            for shape in WRONG_SHAPES[path]
        ]
        for name, body, content_type in bodies:
            status, kind, payload = await post(api, path, token, body, content_type)
            assert 400 <= status < 500, (name, status, payload)
            assert kind == "application/json" and payload["error"]["code"], name
        assert api.llm.requests_to("/chat/completions") == []  # nothing was asked

        for hostile in TEXTS:
            raw = json.dumps(ask_body(path, hostile.text)).encode()  # \ud800 as an escape
            status, kind, payload = await post(api, path, token, raw, "application/json")
            if hostile.lone_surrogate:  # pydantic's JSON parser refuses the escape
                assert (status, payload["error"]["code"]) == (400, "bad_request"), hostile.name
            else:
                assert status == 200, (hostile.name, payload)
                # /v1 forwards the JSON as it came (an escaped pair is one character).
                sent = (
                    hostile.clean if path == "/ask" else json.loads(raw)["messages"][0]["content"]
                )
                assert answer_text(path, payload) == f"Echo: {sent}", hostile.name
        asked = [
            r.body["messages"][-1]["content"] for r in api.llm.requests_to("/chat/completions")
        ]
        passed = [
            h.clean if path == "/ask" else json.loads(json.dumps(h.text))
            for h in TEXTS
            if not h.lone_surrogate
        ]
        assert asked == passed
        assert await open_holds(api.app.uow) == []
    assert tracebacks(caplog) == []


@pytest.mark.postgres
async def test_hostile_answers_from_the_model_are_cleaned(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The upstream is outside text too: its answer is cleaned as it is read."""
    watch_logs(caplog)
    async with running_api(pg_url) as api:
        _, token = await api.user("trusting")
        for hostile in TEXTS:
            api.llm.script(reply=hostile.text)  # sent as JSON: a lone surrogate as \ud800
            status, body = await api.call("POST", "/ask", token, json={"text": "hi"})
            assert (status, body["text"]) == (200, hostile.clean), hostile.name
        assert await open_holds(api.app.uow) == []
    assert tracebacks(caplog) == []
