"""What a /v1 chat completion produced, read from the upstream's own objects: the usage
it reports, and the text of every choice (so that a cut stream is charged for what was
produced, counted with the tokenizer)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.models_config import ModelSpec
from core.money import price_of
from core.ports.passthrough import JSONObject
from core.services.chat import chat_cost
from core.tokenizer import count_tokens
from core.types import Usage


@dataclass(slots=True)
class Produced:
    """Read from each object the upstream sent, in order."""

    prompt_tokens: int  # counted before the call; the upstream's figure wins when given
    usage: Usage | None = None
    cached_tokens: int = 0  # of usage.prompt_tokens, read from the upstream's cache
    texts: dict[int, list[str]] = field(default_factory=dict)  # per choice index
    started: bool = False  # the upstream was called
    finished: bool = False  # [DONE], or a whole completion
    failed: bool = False  # an error status, a cut, or an error object mid-stream

    def read(self, obj: JSONObject) -> None:
        usage = parse_usage(obj.get("usage"))
        if usage is not None:
            self.usage = usage
            self.cached_tokens = min(cached_tokens(obj.get("usage")), usage.prompt_tokens)
        choices = obj.get("choices")
        if not isinstance(choices, list):
            return
        for choice in choices:
            if isinstance(choice, dict):
                index = choice.get("index")
                text = _choice_text(choice.get("delta") or choice.get("message"))
                if text:
                    self.texts.setdefault(index if isinstance(index, int) else 0, []).append(text)

    @property
    def any_output(self) -> bool:
        return bool(self.texts)

    def estimated(self) -> Usage:
        completion = sum(count_tokens("".join(parts)) for parts in self.texts.values())
        return Usage(self.prompt_tokens, completion)


def parse_usage(value: object) -> Usage | None:
    """``prompt_tokens`` and ``completion_tokens`` of an OpenAI usage object. Both already
    hold every choice and every detail: cached prompt tokens are part of
    ``prompt_tokens``, reasoning, audio and image output part of ``completion_tokens``."""
    if not isinstance(value, dict):
        return None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(max(0, prompt), max(0, completion))


def cached_tokens(value: object) -> int:
    details = value.get("prompt_tokens_details") if isinstance(value, dict) else None
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return cached if isinstance(cached, int) and cached > 0 else 0


def charge_for(model: ModelSpec, usage: Usage, cached: int) -> int:
    """Input and output at the models file's prices; cached prompt tokens at
    ``cached_input_credits_per_1k`` when the file gives it (else they are input)."""
    if model.cached_input_per_1k is None or cached <= 0:
        return chat_cost(model, usage)
    return (
        price_of(usage.prompt_tokens - cached, model.input_per_1k)
        + price_of(cached, model.cached_input_per_1k)
        + price_of(usage.completion_tokens, model.output_per_1k)
    )


def usage_to_charge(produced: Produced) -> tuple[Usage, bool]:
    """(usage to charge, whether it is the upstream's own figure)."""
    if not produced.started:
        return Usage(0, 0), False
    if produced.usage is not None:
        return produced.usage, True
    if produced.failed and not produced.any_output:
        return Usage(0, 0), False
    return produced.estimated(), False


def _choice_text(part: object) -> str:
    """What a choice's delta or message produced: content, refusal, tool-call names and
    arguments, audio transcript."""
    if not isinstance(part, dict):
        return ""
    out: list[str] = []
    for key in ("content", "refusal", "reasoning_content"):
        value = part.get(key)
        if isinstance(value, str):
            out.append(value)
    calls = part.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            out.extend(v for k in ("name", "arguments") if isinstance(v := function.get(k), str))
    audio = part.get("audio")
    if isinstance(audio, dict) and isinstance(audio.get("transcript"), str):
        out.append(audio["transcript"])
    return "".join(out)
