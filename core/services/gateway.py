"""The /v1 gateway's chat completions: the client owns the conversation.

Unlike ``ChatService`` there is no stored context, no system prompt and no character
limit: the client's body goes upstream unchanged (every message, part and parameter,
known or not) except ``model`` (the upstream id) and an output limit that is added or
lowered only where the model's configured maximum requires it; the upstream's objects
come back unchanged except ``model`` (the client's name). A limit the gateway adds goes
under the model's ``limit_parameter`` (``max_tokens`` unless the models file says
``max_completion_tokens``); the client's own keys are kept as it sent them. Billing is the chat's: the
worst case (the prompt counted with the tokenizer, the output limit times ``n``) is
reserved in the admission's transaction and settled from the upstream's usage when the
reply is closed, whatever happened. Nothing is written to a conversation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace

from core.errors import BadArgument, UpstreamError
from core.models_config import ModelSpec
from core.observability import bind_request_id
from core.ports import UnitOfWork
from core.ports.passthrough import ChatPassthrough, JSONObject
from core.services.billing import Billing, Hold, Settlement
from core.services.chat import chat_cost
from core.services.chat_reply import Reply, admit_to_the_end
from core.services.gate import Admitted, Gate
from core.services.gateway_usage import Produced, charge_for, usage_to_charge
from core.services.requests import PaidRequest
from core.services.spend_cap import least_hold, output_cap, prompt_cost
from core.tokenizer import count_json, count_messages
from core.types import Feature, Outcome, Usage

logger = logging.getLogger(__name__)
LIMIT_KEYS = ("max_completion_tokens", "max_tokens")
LARGE_BODY = 64 * 1024  # bytes: above this the prompt is counted in a thread
# Request fields the model reads besides the messages (they count as prompt tokens).
PROMPT_FIELDS = ("tools", "functions", "response_format")


@dataclass(frozen=True, slots=True)
class GatewayChatRequest(PaidRequest):
    """``body`` is the client's JSON object as it came; ``model`` its model name;
    ``size`` its length in bytes (a large one is counted off the event loop)."""

    body: JSONObject = field(default_factory=dict)
    size: int = 0


GatewayReply = Reply[JSONObject]


@dataclass(frozen=True, slots=True)
class Plan:
    """What one request sends and reserves."""

    body: JSONObject  # what goes upstream
    stream: bool
    client_wants_usage: bool
    prompt_tokens: int
    output_tokens: int  # the output limit times n: the worst case


class ChatGatewayService:
    def __init__(
        self, gate: Gate, billing: Billing, providers: Mapping[str, ChatPassthrough]
    ) -> None:
        self._gate = gate
        self._billing = billing
        self._providers = providers

    async def start(self, request: GatewayChatRequest) -> GatewayReply:
        """Admit and reserve; raises every refusal (nothing charged, nothing sent).

        Use it as ``async with reply:``; ``reply.events`` yields the upstream's whole
        ``chat.completion``, or its chunks when the body asks to stream."""
        bind_request_id(request.request_id)
        check_body(request.body)
        # Counted before the admission's transaction opens; a large body (a long
        # conversation, megabytes of text) in a thread, so the loop serves others meanwhile.
        if request.size > LARGE_BODY:
            prompt = await asyncio.to_thread(prompt_tokens, request.body)
        else:
            prompt = prompt_tokens(request.body)
        return await admit_to_the_end(self._admit(request, prompt))

    async def _admit(self, request: GatewayChatRequest, prompt: int) -> GatewayReply:
        async def reserve(uow: UnitOfWork, admitted: Admitted) -> tuple[Plan, Hold]:
            model = admitted.model
            plan = plan_for(request.body, model, prompt)
            worst = chat_cost(model, usage_of(plan))
            hold = await self._billing.hold_in(
                uow,
                admitted.account,
                request,
                worst,
                Feature.CHAT,
                model.name,
                # The bounded overdraft: refused before the upstream when the balance alone
                # cannot pay the prompt; otherwise the output is capped to what was held.
                upfront=prompt_cost(model, prompt),
                least=least_hold(model, prompt),
            )
            choices = answers_of(request.body)
            per_choice = plan.output_tokens // choices
            cap = output_cap(model, prompt, hold.reserved, wanted=per_choice, choices=choices)
            if cap < per_choice:
                plan = capped(plan, max(cap, 1), choices, model)
            return plan, hold

        admission = AsyncExitStack()
        try:
            admitted, (plan, hold) = await admission.enter_async_context(
                # Reads, then one whole write (the hold): no transaction needed, unless an
                # event id must be recorded with the hold.
                self._gate.admit(request, Feature.CHAT, reserve, atomic=bool(request.event_id))
            )
        except BaseException:
            await admission.aclose()
            raise
        model, client_model = admitted.model, str(request.body["model"])
        produced = Produced(prompt_tokens=plan.prompt_tokens)
        settled: list[Settlement] = []

        async def settle() -> Settlement:
            if not settled:
                settled.append(settlement(model, produced))
                await self._billing.settle(hold, settled[0])
            return settled[0]

        async def events() -> AsyncGenerator[JSONObject, None]:
            produced.started = True
            provider = self._providers[model.provider]
            try:
                async for obj in provider.passthrough_chat(plan.body, plan.stream):
                    produced.read(obj)
                    # A whole completion is the end: the caller may stop reading at it.
                    produced.finished = not plan.stream
                    if "error" in obj:  # an error object mid-stream ends the answer
                        produced.failed = True
                        yield obj
                        return
                    shown = for_client(obj, client_model, plan)
                    if shown is not None:
                        yield shown
            except UpstreamError:
                produced.failed = True
                raise
            produced.finished = True

        return Reply(hold.request_id, events(), settle, admission)


def check_body(body: JSONObject) -> None:
    """The few things the gateway itself must read; the rest is the upstream's to judge."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadArgument(detail="messages: a non-empty array is required")
    n = body.get("n")
    if n is not None and not 1 <= (whole(n) or 0) <= 128:
        raise BadArgument(detail="n: an integer from 1 to 128")
    for key in LIMIT_KEYS:
        value = body.get(key)
        if value is not None and (whole(value) or 0) < 1:
            raise BadArgument(detail=f"{key}: a positive integer")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise BadArgument(detail="stream_options: an object")


def whole(value: object) -> int | None:
    """An integer, or a number JSON wrote with a fraction of zero (``50.0``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def prompt_tokens(body: JSONObject) -> int:
    """The prompt as the model reads it: the messages, and the tools and the response
    format described to it."""
    messages = body.get("messages")
    prompt = count_messages(messages if isinstance(messages, list) else [])
    return prompt + sum(count_json(body.get(key)) for key in PROMPT_FIELDS)


def plan_for(body: JSONObject, model: ModelSpec, prompt: int | None = None) -> Plan:
    upstream = dict(body)
    upstream["model"] = model.upstream
    given = [v for k in LIMIT_KEYS if (v := whole(body.get(k))) is not None and v > 0]
    limit = min([*given, model.max_output_tokens])
    if given:
        for key in LIMIT_KEYS:  # lowered only where the model's maximum requires it
            value = whole(body.get(key))
            if value is not None and value > limit:
                upstream[key] = limit
    else:
        # Under the key the model's server takes (the models file's ``limit_parameter``):
        # ``max_tokens`` for most, ``max_completion_tokens`` for OpenAI's reasoning models,
        # which refuse ``max_tokens`` with a 400 the client never caused.
        upstream[model.limit_parameter] = limit
    stream = body.get("stream") is True
    options = body.get("stream_options")
    given_options: JSONObject = options if isinstance(options, dict) else {}
    wants_usage = given_options.get("include_usage") is True
    if stream:
        # Usage is asked for always, so billing is exact; the client sees it only if it asked.
        upstream["stream_options"] = {**given_options, "include_usage": True}
    counted = prompt_tokens(body) if prompt is None else prompt
    return Plan(upstream, stream, wants_usage, counted, limit * answers_of(body))


def answers_of(body: JSONObject) -> int:
    """How many answers the request asks for (``n``, default 1)."""
    return whole(body.get("n")) or 1


def capped(plan: Plan, cap: int, choices: int, model: ModelSpec) -> Plan:
    """``plan`` with its output limit lowered to ``cap`` tokens per answer: what a low
    balance plus the allowed overdraft pays for. The upstream then ends with
    ``finish_reason: "length"``, which the client reads as a shortened answer. The keys
    the body has are lowered; with none, the model's own key is added."""
    body = dict(plan.body)
    for key in [k for k in LIMIT_KEYS if k in body] or [model.limit_parameter]:
        body[key] = cap
    return replace(plan, body=body, output_tokens=cap * choices)


def usage_of(plan: Plan) -> Usage:
    return Usage(plan.prompt_tokens, plan.output_tokens)


def for_client(obj: JSONObject, client_model: str, plan: Plan) -> JSONObject | None:
    """The upstream's object with the client's model name; the usage the client did not
    ask for (streaming) left out: the usage-only chunk is dropped."""
    shown = dict(obj)
    if "model" in shown:
        shown["model"] = client_model
    if plan.stream and not plan.client_wants_usage and "usage" in shown:
        if not shown.get("choices"):
            return None
        del shown["usage"]
    return shown


def settlement(model: ModelSpec, produced: Produced) -> Settlement:
    usage, reported = usage_to_charge(produced)
    if not produced.started:
        outcome = Outcome.STOPPED  # closed before the upstream was asked: nothing owed
    elif produced.finished:
        outcome = Outcome.OK
        if not reported:
            logger.info("upstream reported no usage; charging an estimate")
    elif produced.failed:
        outcome = Outcome.CUT if produced.any_output else Outcome.FAILED
    else:
        outcome = Outcome.STOPPED  # the client left mid-answer
    cached = produced.cached_tokens if reported else 0
    return Settlement(charge=charge_for(model, usage, cached), outcome=outcome, usage=usage)
