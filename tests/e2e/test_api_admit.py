"""Admit, then stream: every refusal of /ask and /v1/chat/completions is a JSON error
status even when SSE was asked for (nothing was prepared yet); a model that fails after
/ask's stream opened ends it with an error event, and nothing is charged. /v1 waits for
the upstream's first chunk before its status, so an upstream refusal is a status there."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.api_harness import Api, running_api

SSE = {"Accept": "text/event-stream"}


async def _lines(api: Api, path: str, token: str, body: dict[str, Any], **headers: str) -> Any:
    headers = {"Authorization": f"Bearer {token}", **headers}
    async with api.http.post(f"{api.base_url}{path}", json=body, headers=headers) as r:
        if r.content_type == "application/json":
            return r.status, r.content_type, await r.json()
        lines = [raw.decode().strip() async for raw in r.content]
        return r.status, r.content_type, [line for line in lines if line]


async def test_refusals_are_json_statuses_before_any_stream(sqlite_url: str) -> None:
    async with running_api(sqlite_url, welcome_credits="0") as api:
        _, token = await api.user("broke")
        for path, body, headers in [
            ("/ask", {"text": "hello?"}, SSE),
            ("/ask", {"text": "hello?"}, {}),
        ]:
            status, kind, answer = await _lines(api, path, token, body, **headers)
            assert (status, kind) == (402, "application/json"), (path, answer)
            assert answer["error"]["code"] == "insufficient_credits"
        # OpenAI's way of saying it, which its SDKs raise as RateLimitError.
        status, kind, answer = await _lines(
            api, "/v1/chat/completions", token, _completion(stream=True)
        )
        assert (status, kind) == (429, "application/json"), answer
        assert answer["error"]["code"] == "insufficient_quota"
        status, kind, answer = await _lines(api, "/ask", token, {"text": "   "}, **SSE)
        assert (status, kind, answer["error"]["code"]) == (422, "application/json", "empty_input")
        assert api.llm.requests_to("/v1/chat/completions") == []


def _completion(stream: bool) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": stream,
    }


async def test_upstream_failure_after_the_stream_opened_is_its_last_event(
    sqlite_url: str,
) -> None:
    async with running_api(sqlite_url) as api:
        _, token = await api.user("unlucky")
        api.llm.script(fail_before_output=400)
        status, kind, lines = await _lines(api, "/ask", token, {"text": "hi"}, **SSE)
        assert (status, kind) == (200, "text/event-stream")
        assert lines[0] == "event: error"
        assert json.loads(lines[1].removeprefix("data:"))["error"]["code"] == "upstream_rejected"
        assert len(lines) == 2

        status, kind, answer = await _lines(api, "/v1/chat/completions", token, _completion(True))
        assert (status, kind) == (400, "application/json")  # the upstream's status and words
        assert (
            answer["error"]["message"] == "The server had an error while processing your request."
        )

        # Not streamed: the status still says it.
        status, _, answer = await _lines(api, "/ask", token, {"text": "hi"})
        assert status == 502 and answer["error"]["code"] == "upstream_rejected"

        status, balance = await api.call("GET", "/balance", token)
        assert balance["balance_micro"] == api.app.core.config.welcome_credits  # refunded
