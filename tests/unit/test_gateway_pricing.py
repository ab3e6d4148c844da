"""The /v1 pass-through's arithmetic: prompt estimates, output limits, answers per
request, and the meters that read usage and text from stream events."""

from __future__ import annotations

from core.models_config import ModelSpec
from core.money import estimate_tokens
from core.services.gateway_calls import COMPLETIONS, RESPONSES
from core.services.gateway_paid import limited, text_tokens, token_cost
from core.services.gateway_stream import CompletionsMeter, ResponsesMeter, rename_model
from core.types import Feature, Role, Usage

MODEL = ModelSpec(
    name="client-id",
    kind=Feature.CHAT,
    provider="openai",
    upstream="upstream-id",
    roles=frozenset(Role),
    input_per_1k=1000,
    output_per_1k=3000,
    max_output_tokens=100,
)


def test_prompt_estimates_count_text_token_ids_and_framing() -> None:
    # Text is counted by the real tokenizer, the same count as everywhere else.
    assert text_tokens("abcdefgh") == estimate_tokens("abcdefgh") >= 1
    assert text_tokens("hello " * 100) == estimate_tokens("hello " * 100) > 50
    assert text_tokens([1, 2, 3]) == 3  # token ids count one each
    # A message: 4 tokens of framing, then each value's tokens.
    framed = 4 + estimate_tokens("user") + estimate_tokens("abcd")
    assert text_tokens([{"role": "user", "content": "abcd"}]) == framed
    assert text_tokens(None) == 0 and text_tokens(True) == 0


def test_output_limits_are_added_or_lowered_only_where_the_model_needs_it() -> None:
    body = {"model": "m", "max_tokens": 20, "extra": [1]}
    assert limited(body, "max_tokens", MODEL) == (body, 20)  # the same object: untouched
    assert limited({"model": "m"}, "max_tokens", MODEL) == ({"model": "m", "max_tokens": 100}, 100)
    lowered, limit = limited({"max_tokens": 5000}, "max_tokens", MODEL)
    assert lowered == {"max_tokens": 100} and limit == 100
    assert limited({"max_tokens": True}, "max_tokens", MODEL)[1] == 100  # not a number


def test_answers_per_request_multiply_the_reservation() -> None:
    assert COMPLETIONS.answers({"prompt": "x"}) == 1
    assert COMPLETIONS.answers({"prompt": ["a", "b", "c"], "n": 2}) == 6
    assert COMPLETIONS.answers({"prompt": [1, 2, 3], "n": 2, "best_of": 5}) == 5
    assert RESPONSES.answers({"input": "x", "n": 9}) == 1
    assert token_cost(MODEL, Usage(1000, 1000)) == 4000


def test_meters_read_usage_and_text_and_keep_unasked_usage_from_the_client() -> None:
    quiet = CompletionsMeter(client_wants_usage=False)
    assert quiet.see({"choices": [{"text": "Hel"}, {"text": "lo"}]})
    usage = {"prompt_tokens": 3, "completion_tokens": 2}
    assert not quiet.see({"choices": [], "usage": usage})  # asked upstream, not by the client
    assert quiet.usage() == Usage(3, 2) and quiet.produced() == "Hello"
    assert CompletionsMeter(client_wants_usage=True).see({"choices": [], "usage": usage})

    responses = ResponsesMeter()
    responses.see({"type": "response.output_text.delta", "delta": "Hi"})
    assert not responses.done and responses.usage() is None
    final = {"usage": {"input_tokens": 5, "output_tokens": 1}, "model": "upstream-id"}
    responses.see({"type": "response.completed", "response": final})
    assert responses.done and responses.usage() == Usage(5, 1) and responses.produced() == "Hi"


def test_the_upstream_model_id_is_renamed_to_the_clients() -> None:
    event = {"model": "upstream-id", "response": {"model": "upstream-id"}}
    assert rename_model(event, MODEL)
    assert event == {"model": "client-id", "response": {"model": "client-id"}}
    assert not rename_model({"model": "someone-else"}, MODEL)


def test_a_low_hold_lowers_the_output_limit_of_completions_and_responses() -> None:
    from core.services.gateway_paid import within_hold

    body = {"model": "m", "prompt": "x", "max_tokens": 90}
    held_for_all = token_cost(MODEL, Usage(10, 90 * 2))
    assert within_hold(body, "max_tokens", MODEL, 10, held_for_all, 2) is body
    # Half the output's price held: about half the tokens per answer.
    half = token_cost(MODEL, Usage(10, 90))
    lowered = within_hold(body, "max_tokens", MODEL, 10, half, 2)
    assert 0 < lowered["max_tokens"] < 90 and body["max_tokens"] == 90
    assert token_cost(MODEL, Usage(10, lowered["max_tokens"] * 2)) <= half
