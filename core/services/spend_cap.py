"""How much output a hold pays for: the cap that keeps one request inside the balance
plus the allowed overdraft.

A chat reservation takes ``min(worst case, balance + overdraft)`` in one guarded UPDATE
(``Billing.hold_in``); the output limit sent upstream is then cut to what that hold covers
at the model's prices, so the charge of a full answer fits the hold. Chat and the /v1
gateway decide their output limit here, so both honour the same bound."""

from __future__ import annotations

from core.models_config import ModelSpec
from core.money import price_of


def prompt_cost(model: ModelSpec, prompt_tokens: int) -> int:
    return price_of(prompt_tokens, model.input_per_1k)


def least_hold(model: ModelSpec, prompt_tokens: int) -> int:
    """The smallest hold worth taking: the prompt and one token of answer."""
    return prompt_cost(model, prompt_tokens) + price_of(1, model.output_per_1k)


def output_cap(
    model: ModelSpec, prompt_tokens: int, held: int, wanted: int | None = None, choices: int = 1
) -> int:
    """The most output tokens per choice (at most ``wanted``, default the model's
    maximum) whose price for ``choices`` answers, with the prompt's, fits in ``held``; 0
    when not even the prompt fits. The /v1 gateway passes its ``n`` as ``choices``."""
    limit = model.max_output_tokens if wanted is None else min(wanted, model.max_output_tokens)
    left = held - prompt_cost(model, prompt_tokens)
    if left < 0:
        return 0
    if model.output_per_1k <= 0:
        return limit
    # price_of rounds up: n tokens cost ceil(n * p / 1000) <= left  <=>  n <= left*1000 // p.
    return min(limit, left * 1000 // model.output_per_1k // max(choices, 1))
