"""/v1 embeddings, legacy completions and the Responses API: passed through to the model's
provider, streamed or not, billed from the upstream's ``usage``.

Reservation: the prompt's estimated tokens at the input price plus the output limit (the
client's, lowered to the model's maximum, or that maximum when absent) times the number of
answers at the output price. Settlement: the upstream's usage; without one, the worst
case for a whole answer and an estimate of what was produced for a stream."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.models_config import ModelSpec
from core.observability import bind_request_id
from core.ports import JsonObject
from core.services.billing import uncancellable
from core.services.gateway_paid import (
    Door,
    PaidRelay,
    RelayRequest,
    limited,
    positive_int,
    text_tokens,
    token_cost,
    upstream_body,
    within_hold,
)
from core.services.gateway_stream import (
    CompletionsMeter,
    Meter,
    PassThroughStream,
    ResponsesMeter,
    rename_model,
    usage_of,
)
from core.types import Feature, Outcome, Usage


def _completion_answers(body: JsonObject) -> int:
    """Each prompt of a batch gets ``n`` answers (``best_of`` generated, if larger)."""
    prompt = body.get("prompt")
    prompts = 1
    if isinstance(prompt, list) and prompt and not all(isinstance(p, int) for p in prompt):
        prompts = len(prompt)
    return prompts * max(positive_int(body.get("n"), 1), positive_int(body.get("best_of"), 1))


@dataclass(frozen=True, slots=True)
class Route:
    endpoint: str  # under /v1, as the models file's ``endpoints`` names it
    limit_key: str  # the body's output limit
    prompt_keys: tuple[str, ...]
    usage_keys: tuple[str, str]  # (input, output) in the upstream's usage object
    answers: Callable[[JsonObject], int]
    meter: Callable[[JsonObject], Meter]

    def prompt_tokens(self, body: JsonObject) -> int:
        return sum(text_tokens(body.get(key)) for key in self.prompt_keys)

    def usage(self, answer: JsonObject) -> Usage | None:
        return usage_of(answer.get("usage"), *self.usage_keys)


def _wants_usage(body: JsonObject) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


COMPLETIONS = Route(
    "completions",
    "max_tokens",
    ("prompt", "suffix"),
    ("prompt_tokens", "completion_tokens"),
    _completion_answers,
    lambda body: CompletionsMeter(_wants_usage(body)),
)
RESPONSES = Route(
    "responses",
    "max_output_tokens",
    ("input", "instructions"),
    ("input_tokens", "output_tokens"),
    lambda body: 1,
    lambda body: ResponsesMeter(),
)


class GatewayService:
    def __init__(self, paid: PaidRelay) -> None:
        self._paid = paid

    async def embeddings(self, request: RelayRequest) -> JsonObject:
        bind_request_id(request.request_id)
        tokens = text_tokens(request.body.get("input"))

        def worst(model: ModelSpec) -> int:
            return token_cost(model, Usage(tokens, 0))

        async with self._paid.door(request, Feature.EMBEDDING, "embeddings", worst) as door:
            body = upstream_body(request.body, door.model)
            outcome, usage = Outcome.FAILED, Usage(0, 0)
            try:
                answer = await door.upstream.post_json("/embeddings", body)
                used = answer.get("usage")
                counted = used.get("prompt_tokens") if isinstance(used, dict) else None
                usage = Usage(counted if isinstance(counted, int) else tokens, 0)
                outcome = Outcome.OK
                rename_model(answer, door.model)
                return answer
            finally:
                charge = token_cost(door.model, usage) if outcome is Outcome.OK else 0
                await self._paid.settle(door, charge, outcome, usage)

    async def whole(self, route: Route, request: RelayRequest) -> JsonObject:
        """A non-streamed completion or response."""
        bind_request_id(request.request_id)
        prompt, answers = route.prompt_tokens(request.body), route.answers(request.body)

        def worst_usage(model: ModelSpec) -> Usage:
            return Usage(prompt, limited(request.body, route.limit_key, model)[1] * answers)

        def worst(model: ModelSpec) -> int:
            return token_cost(model, worst_usage(model))

        door_cm = self._paid.door(request, Feature.CHAT, route.endpoint, worst, prompt)
        async with door_cm as door:
            body = self._bounded(route, request, door, prompt, answers)
            outcome, usage = Outcome.FAILED, Usage(0, 0)
            try:
                answer = await door.upstream.post_json(f"/{route.endpoint}", body)
                usage, outcome = route.usage(answer) or worst_usage(door.model), Outcome.OK
                rename_model(answer, door.model)
                return answer
            finally:
                charge = token_cost(door.model, usage) if outcome is Outcome.OK else 0
                await self._paid.settle(door, charge, outcome, usage)

    async def stream(self, route: Route, request: RelayRequest) -> PassThroughStream:
        """Admitted, reserved and the first event received: every refusal and upstream
        error status raises here, before the caller starts its answer."""
        bind_request_id(request.request_id)
        prompt, answers = route.prompt_tokens(request.body), route.answers(request.body)

        def worst(model: ModelSpec) -> int:
            limit = limited(request.body, route.limit_key, model)[1]
            return token_cost(model, Usage(prompt, limit * answers))

        door_cm = self._paid.door(request, Feature.CHAT, route.endpoint, worst, prompt)
        door = await door_cm.__aenter__()
        try:
            body = self._bounded(route, request, door, prompt, answers)
            if route is COMPLETIONS:  # usage is what the bill is made of: always ask for it
                body["stream_options"] = {
                    **_dict(body.get("stream_options")),
                    "include_usage": True,
                }
            events = door.upstream.stream(f"/{route.endpoint}", body)
            first = await anext(events, None)
        except BaseException as exc:
            await uncancellable(self._paid.settle(door, 0, Outcome.FAILED))
            if not await door_cm.__aexit__(type(exc), exc, exc.__traceback__):
                raise
            raise
        return PassThroughStream(
            door_cm, door, events, first, route.meter(request.body), prompt, self._settle
        )

    @staticmethod
    def _bounded(
        route: Route, request: RelayRequest, door: Door, prompt: int, answers: int
    ) -> JsonObject:
        """The upstream body: the model's id, the output limit the model allows and the
        hold pays for."""
        body, _ = limited(upstream_body(request.body, door.model), route.limit_key, door.model)
        held = door.hold.reserved
        return within_hold(body, route.limit_key, door.model, prompt, held, answers)

    async def _settle(self, door: Door, usage: Usage, outcome: Outcome) -> None:
        await self._paid.settle(door, token_cost(door.model, usage), outcome, usage)


def _dict(value: object) -> JsonObject:
    return dict(value) if isinstance(value, dict) else {}
