"""The fake LLM server's ``/chat/completions``: validation as OpenAI does it, then a
whole ``chat.completion`` or an SSE stream shaped by the request's ``Script``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.llm_scripts import (
    Completion,
    Script,
    error_body,
    logprobs,
    prompt_tokens,
    tool_call,
    unsupported_max_tokens,
)

if TYPE_CHECKING:
    from tests.fakes.llm_server import FakeLLM


async def chat_completions(llm: FakeLLM, request: web.Request) -> web.StreamResponse:
    body = await llm.json_body(request)
    if isinstance(body, web.Response):
        return body
    problem = llm.check_model(body) or _invalid(llm, body)
    if problem is not None:
        return problem
    script = llm.next_script()
    early = await llm.before_reply(request, script)
    if early is not None:
        return early
    messages = body["messages"]
    calls = script.tool_calls
    chunks = _argument_pieces(calls) if calls else script.chunks(messages)
    finish = "tool_calls" if calls else "stop"
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None and len(chunks) > limit:
        chunks, finish = chunks[:limit], "length"
    include_usage = bool(
        body.get("stream") and (body.get("stream_options") or {}).get("include_usage")
    )
    completion = Completion(llm.served, body["model"], include_usage)
    prompt = prompt_tokens(messages)
    n = body.get("n") or 1
    choice = Choice(n, calls, bool(body.get("logprobs")))
    if not body.get("stream") or script.ignore_stream:  # some servers ignore "stream"
        try:
            if script.hang:
                await llm.hang(request)
            await asyncio.sleep(script.delay * len(chunks))
        except ConnectionResetError:
            return web.Response(status=503)
        whole = completion.whole(
            "".join(chunks),
            finish,
            prompt,
            len(chunks),
            n=n,
            calls=calls,
            token_logprobs=logprobs(chunks) if choice.logprobs else None,
        )
        return web.json_response(whole)
    return await _stream(llm, request, script, completion, chunks, finish, prompt, choice)


@dataclass(frozen=True)
class Choice:
    """How each streamed piece is shaped: how many choices, tool calls, logprobs."""

    n: int
    calls: list[dict[str, Any]] | None
    logprobs: bool

    def first(self) -> dict[str, Any]:
        if self.calls:
            calls = [
                {**tool_call(i, c), "function": {"name": c["name"], "arguments": ""}}
                for i, c in enumerate(self.calls)
            ]
            return {"role": "assistant", "content": None, "tool_calls": calls, "refusal": None}
        return {"role": "assistant", "content": "", "refusal": None}

    def piece(self, text: str) -> dict[str, Any]:
        if self.calls:  # the pieces are the arguments of the last call
            index = len(self.calls) - 1
            return {"tool_calls": [{"index": index, "function": {"arguments": text}}]}
        return {"content": text}


def _argument_pieces(calls: list[dict[str, Any]]) -> list[str]:
    """The last call's arguments in 8-character pieces (one token each, for usage);
    earlier calls come whole in the first chunk."""
    arguments = str(calls[-1].get("arguments", "{}"))
    return [arguments[i : i + 8] for i in range(0, len(arguments), 8)] or [""]


def _invalid_parts(content: object) -> str | None:
    """OpenAI's checks of content parts: a known type, and an image URL that is http(s)
    or a base64 data URL of an image."""
    if not isinstance(content, list):
        return None
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            continue
        if kind == "image_url":
            url = (part.get("image_url") or {}).get("url")
            if isinstance(url, str) and (
                url.startswith(("http://", "https://")) or url.startswith("data:image/")
            ):
                continue
            return "Invalid 'messages[{index}].content': image_url.url must be a URL or a data URL."
        return "Invalid content part type in 'messages[{index}].content'."
    return None


def _invalid(llm: FakeLLM, body: dict[str, Any]) -> web.Response | None:
    messages = body.get("messages")
    if messages is None:
        return llm.error(400, "Missing required parameter: 'messages'.", "messages")
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and m.get("role") for m in messages
    ):
        return llm.error(
            400, "Invalid type for 'messages': expected an array of message objects.", "messages"
        )
    if not messages:
        return llm.error(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
        )
    for index, message in enumerate(messages):
        problem = _invalid_parts(message.get("content"))
        if problem is not None:
            return llm.error(400, problem.format(index=index), f"messages.[{index}].content")
    if body.get("stream_options") is not None and not body.get("stream"):
        return llm.error(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    if body.get("model") in llm.reasoning_models and "max_tokens" in body:
        # What OpenAI answers for o1, o3, o4-mini, gpt-5...: the old key is refused.
        return web.json_response(unsupported_max_tokens(), status=400)
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            return llm.error(
                400,
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {value} instead.",
                name,
            )
    return None


async def _stream(
    llm: FakeLLM,
    request: web.Request,
    script: Script,
    completion: Completion,
    chunks: list[str],
    finish: str,
    prompt: int,
    choice: Choice,
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)

    async def send(obj: dict[str, Any]) -> None:
        await response.write(f"data: {json.dumps(obj, separators=(',', ':'))}\n\n".encode())

    try:
        for index in range(choice.n):
            first = choice.first()
            if choice.calls:  # earlier calls whole, the last one's arguments to come
                for call, given in zip(first["tool_calls"][:-1], choice.calls[:-1], strict=True):
                    call["function"]["arguments"] = given.get("arguments", "{}")
            await send(completion.chunk(first, index=index))
        for sent in range(len(chunks) + 1):
            if script.hang and sent == script.hang_after:
                await llm.hang(request)
            if script.cut_after == sent:
                if request.transport is not None:  # no terminating chunk: a lost connection
                    request.transport.close()
                return response
            if script.midstream_error_after == sent:
                await send(error_body(500, script.error_message))
                await response.write_eof()
                return response
            if sent == len(chunks):
                break
            if script.delay:
                await asyncio.sleep(script.delay)
            for index in range(choice.n):
                probs = logprobs([chunks[sent]]) if choice.logprobs else None
                await send(completion.chunk(choice.piece(chunks[sent]), None, index, probs))
        for index in range(choice.n):
            await send(completion.chunk({}, finish, index))
        if completion.include_usage and not script.omit_usage:
            await send(completion.usage_chunk(prompt, len(chunks) * choice.n))
        if not script.omit_done:
            await response.write(b"data: [DONE]\n\n")
            llm.completed += 1
        await response.write_eof()
    except ConnectionResetError:  # a write failed: the client went away
        llm.count_disconnect()
    return response
