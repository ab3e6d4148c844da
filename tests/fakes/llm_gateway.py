"""The fake LLM server's pass-through routes: embeddings, legacy completions and the
Responses API, as OpenAI answers them (objects, stream events, usage, error bodies).

Tokens are words (a token id counts one). Completions honour ``max_tokens`` (default 16,
as OpenAI's) and ``n``; responses honour ``max_output_tokens`` (status "incomplete").
The standing script's ``reply`` is the answer (else "Echo: <prompt>"), ``delay`` paces
stream events, ``cut_after`` drops the connection after k events and
``midstream_error_after`` sends an error event after k. Forms and files are in
``tests.fakes.llm_files``."""

from __future__ import annotations

import asyncio
import json
import re
from functools import partial
from itertools import count
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes import llm_files
from tests.fakes.llm_scripts import Script, error_body

if TYPE_CHECKING:
    from tests.fakes.llm_server import FakeLLM

JSON = dict[str, Any]
_ids = count(1)


def mount(app: web.Application, llm: FakeLLM) -> llm_files.FakeFiles:
    app.router.add_post("/v1/embeddings", partial(embeddings, llm))
    app.router.add_post("/v1/completions", partial(completions, llm))
    app.router.add_post("/v1/responses", partial(responses, llm))
    return llm_files.mount(app, llm)


def words(value: object) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 1
    if isinstance(value, list):
        return sum(words(v) for v in value)
    if isinstance(value, dict):
        return sum(words(v) for k, v in value.items() if k in ("text", "content"))
    return 0


def pieces(script: Script, prompt_text: str) -> list[str]:
    text = script.reply if script.reply is not None else f"Echo: {prompt_text}"
    return re.findall(r"\s*\S+(?:\s+$)?", text)


def _text_of(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text_of(v) for v in value if not isinstance(v, int))
    if isinstance(value, dict):
        return " ".join(_text_of(v) for k, v in value.items() if k in ("text", "content"))
    return ""


async def _begin(llm: FakeLLM, request: web.Request) -> tuple[JSON, Script] | web.Response:
    body = await llm.json_body(request)
    if isinstance(body, web.Response):
        return body
    refused = llm.check_model(body)
    if refused is not None:
        return refused
    script = llm.next_script()
    early = await llm.before_reply(request, script)
    return early if early is not None else (body, script)


async def embeddings(llm: FakeLLM, request: web.Request) -> web.Response:
    begun = await _begin(llm, request)
    if isinstance(begun, web.Response):
        return begun
    body, _ = begun
    given = body.get("input")
    if given in (None, "", []):
        return llm.error(400, "'input' : input must be a non-empty string or array", "input")
    items = (
        given if isinstance(given, list) and not all(isinstance(i, int) for i in given) else [given]
    )
    size = body.get("dimensions") if isinstance(body.get("dimensions"), int) else 8
    data = [
        {"object": "embedding", "index": i, "embedding": [round(0.1 * (i + 1), 3)] * size}
        for i, _ in enumerate(items)
    ]
    tokens = words(given)
    return web.json_response(
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


async def completions(llm: FakeLLM, request: web.Request) -> web.StreamResponse:
    begun = await _begin(llm, request)
    if isinstance(begun, web.Response):
        return begun
    body, script = begun
    prompt = body.get("prompt", "<|endoftext|>")
    prompts = (
        prompt
        if isinstance(prompt, list) and not all(isinstance(p, int) for p in prompt)
        else [prompt]
    )
    n = body.get("n") if isinstance(body.get("n"), int) else 1
    limit = body.get("max_tokens") if isinstance(body.get("max_tokens"), int) else 16
    answers: list[tuple[list[str], str]] = []
    for p in prompts:
        words_out = pieces(script, _text_of(p))
        reason = "length" if len(words_out) > limit else "stop"
        answers += [(words_out[:limit], reason)] * n
    prompt_tokens = words(prompt)
    completion_tokens = sum(len(a) for a, _ in answers)
    base = {
        "id": f"cmpl-fake{next(_ids):06d}",
        "object": "text_completion",
        "created": llm.now(),
        "model": body["model"],
    }
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if not body.get("stream"):
        choices = [
            {"text": "".join(a), "index": i, "logprobs": None, "finish_reason": r}
            for i, (a, r) in enumerate(answers)
        ]
        return web.json_response(
            {**base, "system_fingerprint": "fp_fake", "choices": choices, "usage": usage}
        )
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    events: list[JSON] = []
    for i, (a, _) in enumerate(answers):
        events += [
            {**base, "choices": [{"text": w, "index": i, "logprobs": None, "finish_reason": None}]}
            for w in a
        ]
    events += [
        {**base, "choices": [{"text": "", "index": i, "logprobs": None, "finish_reason": r}]}
        for i, (_, r) in enumerate(answers)
    ]
    return await _sse(
        llm,
        request,
        script,
        [(None, e) for e in events],
        usage_event=(
            {**base, "choices": [], "usage": usage}
            if include_usage and not script.omit_usage
            else None
        ),
        done=True,
    )


async def _sse(
    llm: FakeLLM,
    request: web.Request,
    script: Script,
    events: list[tuple[str | None, JSON]],
    *,
    usage_event: JSON | None = None,
    done: bool = False,
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for sent, (name, event) in enumerate(events):
        if script.cut_after == sent:
            if request.transport is not None:
                request.transport.close()
            return response
        if script.midstream_error_after == sent:
            body = error_body(500, script.error_message)
            await response.write(f"data: {json.dumps(body)}\n\n".encode())
            return response
        if script.delay:
            await asyncio.sleep(script.delay)
        head = f"event: {name}\n" if name else ""
        await response.write(f"{head}data: {json.dumps(event)}\n\n".encode())
    if usage_event is not None:
        await response.write(f"data: {json.dumps(usage_event)}\n\n".encode())
    if done and not script.omit_done:
        await response.write(b"data: [DONE]\n\n")
    llm.completed += 1
    await response.write_eof()
    return response


def _response_object(
    body: JSON,
    rid: str,
    created: int,
    status: str,
    text: str | None,
    usage: JSON | None,
    reason: str | None,
) -> JSON:
    output = []
    if text is not None:
        output = [
            {
                "type": "message",
                "id": f"msg_{rid}",
                "status": "completed" if status == "completed" else "incomplete",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ]
    return {
        "id": f"resp_{rid}",
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


async def responses(llm: FakeLLM, request: web.Request) -> web.StreamResponse:
    begun = await _begin(llm, request)
    if isinstance(begun, web.Response):
        return begun
    body, script = begun
    given = body.get("input")
    if given in (None, "", []):
        return llm.error(400, "Missing required parameter: 'input'.", "input")
    out = pieces(script, _text_of(given))
    limit = (
        body.get("max_output_tokens") if isinstance(body.get("max_output_tokens"), int) else None
    )
    reason = "max_output_tokens" if limit is not None and len(out) > limit else None
    out = out[:limit] if limit is not None else out
    status = "incomplete" if reason else "completed"
    input_tokens = words(given) + words(body.get("instructions"))
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": len(out),
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + len(out),
    }
    rid, created, text = f"fake{next(_ids):06d}", llm.now(), "".join(out)
    final = _response_object(body, rid, created, status, text, usage, reason)
    if not body.get("stream"):
        return web.json_response(final)
    start = _response_object(body, rid, created, "in_progress", None, None, None)
    item = {
        "type": "message",
        "id": f"msg_{rid}",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    where = {"item_id": f"msg_{rid}", "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": []}
    events: list[tuple[str, JSON]] = [
        ("response.created", {"response": start}),
        ("response.in_progress", {"response": start}),
        ("response.output_item.added", {"output_index": 0, "item": item}),
        ("response.content_part.added", {**where, "part": part}),
        *[("response.output_text.delta", {**where, "delta": w, "logprobs": []}) for w in out],
        ("response.output_text.done", {**where, "text": text, "logprobs": []}),
        ("response.content_part.done", {**where, "part": {**part, "text": text}}),
        ("response.output_item.done", {"output_index": 0, "item": final["output"][0]}),
        (f"response.{status}", {"response": final}),
    ]
    numbered = [
        (name, {"type": name, "sequence_number": i, **data})
        for i, (name, data) in enumerate(events)
    ]
    return await _sse(llm, request, script, numbered)
