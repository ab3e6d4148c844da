"""What every paid /v1 pass-through shares: the request types, the door (admission, the
provider's relay, the reservation in one transaction) and the settlement.

The client owns the request: its body goes upstream unchanged but for ``model`` (the
upstream id) and an output limit lowered to what the models file allows. Reservations
are the worst case (an estimate of the input, the output limit, times the number of
answers); settlements come from the upstream's ``usage``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from core.errors import EndpointUnsupported
from core.models_config import ModelCatalog, ModelSpec
from core.money import estimate_tokens, price_of
from core.ports import FormPart, GatewayUpstream, JsonObject, UnitOfWork
from core.services.billing import NO_USAGE, Billing, Hold, Settlement
from core.services.gate import Admitted, Gate
from core.services.requests import PaidRequest
from core.services.spend_cap import least_hold, output_cap, prompt_cost
from core.types import Feature, Outcome, Usage


@dataclass(frozen=True, slots=True)
class RelayRequest(PaidRequest):
    """A JSON body for a /v1 route, as the client sent it."""

    body: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FormRequest(PaidRequest):
    """A multipart body for a /v1 route, part by part as the client sent it."""

    parts: tuple[FormPart, ...] = ()

    def form_value(self, name: str) -> str | None:
        found = next((p for p in self.parts if p.name == name and p.filename is None), None)
        return found.value.decode("utf-8", errors="replace") if found else None


@dataclass(frozen=True, slots=True)
class Door:
    model: ModelSpec
    upstream: GatewayUpstream
    hold: Hold


def token_cost(model: ModelSpec, usage: Usage) -> int:
    return price_of(usage.prompt_tokens, model.input_per_1k) + price_of(
        usage.completion_tokens, model.output_per_1k
    )


def text_tokens(value: object) -> int:
    """An estimate of the tokens in a JSON prompt: every string counted (``input``
    arrays of token ids count one each), plus a few per message for its framing. Only
    reservations use it; settlements come from the upstream's usage."""
    if isinstance(value, str):
        return estimate_tokens(value)
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 1
    if isinstance(value, list):
        return sum(text_tokens(item) for item in value)
    if isinstance(value, dict):
        return 4 + sum(text_tokens(item) for item in value.values())
    return 0


def positive_int(value: object, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def limited(body: JsonObject, key: str, model: ModelSpec) -> tuple[JsonObject, int]:
    """The body with the output limit ``key`` set where the model's maximum requires it
    (absent, or above it), and that limit."""
    asked = body.get(key)
    limit = model.max_output_tokens
    if isinstance(asked, int) and not isinstance(asked, bool) and 0 < asked <= limit:
        return body, asked
    return {**body, key: limit}, limit


def within_hold(
    body: JsonObject, key: str, model: ModelSpec, prompt: int, held: int, answers: int
) -> JsonObject:
    """``body`` (already ``limited``) with its output limit lowered to what ``held`` pays
    for, per answer: a low balance plus the allowed overdraft (MAX_OVERDRAFT) caps it."""
    limit = body.get(key)
    wanted = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    cap = output_cap(model, prompt, held, wanted=wanted, choices=answers)
    if wanted is not None and cap >= wanted:
        return body
    return {**body, key: max(cap, 1)}


def upstream_body(body: JsonObject, model: ModelSpec) -> JsonObject:
    return {**body, "model": model.upstream}


class PaidRelay:
    def __init__(
        self,
        gate: Gate,
        billing: Billing,
        relays: Mapping[str, GatewayUpstream],
        models: ModelCatalog,
    ) -> None:
        self._gate = gate
        self._billing = billing
        self._relays = relays
        self._models = models

    def upstream_for(self, provider: str, endpoint: str, model: str) -> GatewayUpstream:
        """The provider's relay, if it offers ``endpoint`` (a path under /v1)."""
        spec = self._models.providers.get(provider)
        relay = self._relays.get(provider)
        if spec is None or relay is None or not spec.offers(endpoint):
            raise EndpointUnsupported(endpoint=f"/v1/{endpoint}", model=model)
        return relay

    @asynccontextmanager
    async def door(
        self,
        request: PaidRequest,
        feature: Feature,
        endpoint: str,
        worst_case: Callable[[ModelSpec], int],
        prompt_tokens: int | None = None,
        *,
        admit_as: Feature | None = None,
        whole: bool = False,
    ) -> AsyncIterator[Door]:
        """Admit ``request`` and reserve ``worst_case(model)``; the rate-limit slot is held
        until the block ends. The block settles (``settle``) before it ends. With
        ``prompt_tokens`` (text generation), the bounded overdraft applies: refused when
        the balance alone cannot pay the prompt, else the hold may be smaller than the
        worst case (``within_hold`` then lowers the output limit). With ``whole`` (a price
        known in advance), refused unless the balance and the overdraft cover all of it.

        ``admit_as``: the kind of model the gate picks, when ``feature`` (what the usage
        is recorded under) is served by no model of its own (files)."""

        async def reserve(uow: UnitOfWork, admitted: Admitted) -> Door:
            model = admitted.model
            upstream = self.upstream_for(model.provider, endpoint, model.name)
            bounded = prompt_tokens is not None
            cost = worst_case(model)
            least = cost if whole else 0
            hold = await self._billing.hold_in(
                uow,
                admitted.account,
                request,
                cost,
                feature,
                model.name,
                upfront=prompt_cost(model, prompt_tokens or 0) if bounded else 0,
                least=least_hold(model, prompt_tokens or 0) if bounded else least,
            )
            return Door(model, upstream, hold)

        # Reads, then one whole write (the hold): no transaction needed, unless an event
        # id must be recorded with the hold.
        atomic = bool(request.event_id)
        kind = admit_as or feature
        async with self._gate.admit(request, kind, reserve, atomic=atomic) as (_, door):
            with named(door.model.name):
                yield door

    async def settle(
        self, door: Door, charge: int, outcome: Outcome, usage: Usage = NO_USAGE
    ) -> None:
        await self._billing.settle(door.hold, Settlement(charge, outcome, usage))


@contextmanager
def named(model: str) -> Iterator[None]:
    """The relay cannot know which model asked; the error it raises should say."""
    try:
        yield
    except EndpointUnsupported as exc:
        if exc.params.get("model"):
            raise
        raise EndpointUnsupported(endpoint=exc.params.get("endpoint", ""), model=model) from None
