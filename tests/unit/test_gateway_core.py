"""The /v1 gateway's rules, without a server: what goes upstream (the body but for the
model and a limit the model's maximum requires), what the client sees, what is charged;
and the offline tokenizer every reservation counts with."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.errors import BadArgument
from core.models_config import ModelSpec, parse_models
from core.services.gateway import check_body, for_client, plan_for, settlement
from core.services.gateway_usage import Produced
from core.tokenizer import PER_IMAGE, PER_MESSAGE, count_messages, count_tokens
from core.types import Feature, Outcome, Role, Usage

MODEL = ModelSpec(
    name="house-model",
    kind=Feature.CHAT,
    provider="openai",
    upstream="vendor/model-7b",
    roles=frozenset({Role.USER}),
    input_per_1k=1000,
    output_per_1k=2000,
    max_output_tokens=100,
)
HI: list[Any] = [{"role": "user", "content": "hi"}]


def test_the_tokenizer_is_real_and_offline() -> None:
    # o200k_base ids as OpenAI's tiktoken gives them: "Hello world" is 2 tokens.
    assert count_tokens("Hello world") == 2
    assert count_tokens("") == 0
    assert count_tokens("<|endoftext|>") > 1  # special-token text is ordinary text
    # Not bytes/4: 400 repetitions of one short word are about 400 tokens, not 600.
    assert 390 <= count_tokens("hello " * 400) <= 410


def test_messages_count_text_parts_tool_calls_and_images() -> None:
    parts = [
        {"type": "text", "text": "Hello world"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 10_000}},
    ]
    assert count_messages([{"role": "user", "content": parts}]) == PER_MESSAGE + 2 + PER_IMAGE
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "function": {}}]}
    assert count_messages([call]) > PER_MESSAGE


def test_the_body_goes_up_unchanged_but_model_and_a_too_high_limit() -> None:
    body: dict[str, object] = {
        "model": "house-model",
        "messages": HI,
        "temperature": 0,
        "n": 3,
        "max_completion_tokens": 500,
        "anything_new": {"x": [1]},
    }
    plan = plan_for(body, MODEL)
    assert plan.body == {**body, "model": "vendor/model-7b", "max_completion_tokens": 100}
    assert plan.output_tokens == 100 * 3
    assert body["model"] == "house-model"  # the client's object is not touched
    kept = plan_for({"model": "m", "messages": HI, "max_tokens": 5}, MODEL)
    assert kept.body == {"model": "vendor/model-7b", "messages": HI, "max_tokens": 5}
    added = plan_for({"model": "m", "messages": HI}, MODEL)
    assert added.body["max_tokens"] == 100 and added.output_tokens == 100


def test_streams_always_ask_for_usage_and_show_it_only_when_asked() -> None:
    options = {"include_obfuscation": False}
    plan = plan_for(
        {"model": "m", "messages": HI, "stream": True, "stream_options": options}, MODEL
    )
    assert plan.body["stream_options"] == {"include_obfuscation": False, "include_usage": True}
    assert not plan.client_wants_usage
    usage_only = {"model": "vendor/model-7b", "choices": [], "usage": {"prompt_tokens": 1}}
    assert for_client(usage_only, "house-model", plan) is None
    chunk = {"model": "vendor/model-7b", "choices": [{"index": 0}], "usage": None}
    assert for_client(chunk, "house-model", plan) == {
        "model": "house-model",
        "choices": [{"index": 0}],
    }
    asked = plan_for(
        {"model": "m", "messages": HI, "stream": True, "stream_options": {"include_usage": True}},
        MODEL,
    )
    assert for_client(usage_only, "house-model", asked) == {**usage_only, "model": "house-model"}


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m"},
        {"model": "m", "messages": []},
        {"model": "m", "messages": HI, "n": 0},
        {"model": "m", "messages": HI, "n": True},
        {"model": "m", "messages": HI, "max_tokens": "10"},
        {"model": "m", "messages": HI, "stream_options": "yes"},
    ],
)
def test_only_what_the_gateway_reads_is_checked(body: dict[str, object]) -> None:
    with pytest.raises(BadArgument):
        check_body(body)


def test_settlement_uses_the_upstreams_usage_over_all_choices() -> None:
    produced = Produced(prompt_tokens=999, started=True, finished=True)
    produced.read(
        {
            "choices": [
                {"index": 0, "message": {"content": "a"}},
                {"index": 1, "message": {"content": "b"}},
            ],
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": 20,
                "prompt_tokens_details": {"cached_tokens": 5},
                "completion_tokens_details": {"reasoning_tokens": 8},
            },
        }
    )
    done = settlement(MODEL, produced)
    assert (done.usage, done.outcome) == (Usage(10, 20), Outcome.OK)
    assert done.charge == 10 * 1000 // 1000 + 20 * 2000 // 1000
    assert done.conversation is None and done.answer is None  # no conversation context


def test_a_cut_stream_is_charged_for_every_choice_it_produced() -> None:
    produced = Produced(prompt_tokens=7, started=True, failed=True)
    for index, text in ((0, "Hello"), (1, " world"), (0, " world")):
        produced.read({"choices": [{"index": index, "delta": {"content": text}}]})
    produced.read(
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"function": {"arguments": "{}"}}]}}]}
    )
    done = settlement(MODEL, produced)
    expected = count_tokens("Hello world{}") + count_tokens(" world")
    assert (done.usage, done.outcome) == (Usage(7, expected), Outcome.CUT)
    nothing = Produced(prompt_tokens=7, started=True, failed=True)
    assert settlement(MODEL, nothing).charge == 0  # failed before any output: refunded
    unread = Produced(prompt_tokens=7)
    assert (settlement(MODEL, unread).charge, settlement(MODEL, unread).outcome) == (
        0,
        Outcome.STOPPED,
    )


def test_cached_prompt_tokens_are_priced_apart_when_the_models_file_says() -> None:
    catalog = parse_models(
        {
            "models": {
                "cached": {
                    "kind": "chat",
                    "input_credits_per_1k": 1,
                    "cached_input_credits_per_1k": 0.25,
                    "output_credits_per_1k": 2,
                }
            }
        }
    )
    model = catalog.models["cached"]
    assert model.cached_input_per_1k == 250_000
    usage = {
        "prompt_tokens": 2000,
        "completion_tokens": 1000,
        "prompt_tokens_details": {"cached_tokens": 1000},
    }
    produced = Produced(prompt_tokens=1, started=True, finished=True)
    produced.read({"choices": [], "usage": usage})
    # 1,000 fresh at 1 credit + 1,000 cached at 0.25 + 1,000 out at 2 (micro-credits).
    assert settlement(model, produced).charge == 1_000_000 + 250_000 + 2_000_000
    # Without that price, cached tokens are input like the rest.
    assert settlement(MODEL, produced).charge == 2000 * 1000 // 1000 + 1000 * 2000 // 1000


def test_long_texts_are_counted_in_pieces_the_package_accepts() -> None:
    # bpe-openai refuses 1,000,000 characters or 200,000 tokens in one call.
    sentence = "The quick brown fox jumps over the lazy dog. "
    per_repeat = count_tokens(sentence * 2) - count_tokens(sentence)  # 10: "The" merges with ". "
    # Cut at spaces, the pieces add up to the whole's count, as one call would give it.
    assert count_tokens(sentence * 25_000) == per_repeat * 25_000 + 1
    assert count_tokens("\U0001f600" * 300_000) >= 300_000  # no word boundary at all


def test_a_low_balance_caps_the_output_limit_of_every_answer() -> None:
    from core.services.gateway import answers_of, capped
    from core.services.spend_cap import output_cap

    body: dict[str, object] = {"model": "m", "messages": HI, "n": 2, "max_tokens": 80}
    plan = plan_for(body, MODEL, prompt=10)
    choices = answers_of(body)
    # The hold pays the prompt (10 tokens at 1 credit/1k) and 50 tokens per answer.
    held = 10 + 2 * 50 * 2
    cap = output_cap(MODEL, 10, held, wanted=plan.output_tokens // choices, choices=choices)
    assert cap == 50
    shortened = capped(plan, cap, choices, MODEL)
    assert shortened.body["max_tokens"] == 50 and shortened.output_tokens == 100
    assert plan.body["max_tokens"] == 80  # the plan it came from is untouched
    both = capped(plan_for({**body, "max_completion_tokens": 90}, MODEL, prompt=10), 7, 2, MODEL)
    assert both.body["max_tokens"] == both.body["max_completion_tokens"] == 7


REASONING = replace(MODEL, limit_parameter="max_completion_tokens")


def test_a_limit_the_gateway_adds_goes_under_the_models_key() -> None:
    from core.services.gateway import capped

    added = plan_for({"model": "m", "messages": HI}, REASONING)
    assert added.body["max_completion_tokens"] == 100 and "max_tokens" not in added.body
    # The client's own key is kept as sent, even the one this model's server refuses.
    own = plan_for({"model": "m", "messages": HI, "max_tokens": 5}, REASONING)
    assert own.body["max_tokens"] == 5 and "max_completion_tokens" not in own.body
    # A low balance lowers the key the body has; with none at all, the model's is added.
    assert capped(added, 9, 1, REASONING).body["max_completion_tokens"] == 9
    bare = replace(added, body={"model": "m", "messages": HI})
    shortened = capped(bare, 9, 1, REASONING).body
    assert shortened["max_completion_tokens"] == 9 and "max_tokens" not in shortened
