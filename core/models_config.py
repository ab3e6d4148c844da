"""The models file: which providers exist, which models, their kind, prices and roles.

Parsing is pure (a dict in, frozen dataclasses out) so it is testable without files; a bad
entry raises ``ModelsFileError`` naming the key at fault."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from core.money import PriceError, to_micro
from core.types import Feature, Role


class ModelsFileError(ValueError):
    pass


# What a model may be (``kind``): every feature but files, which no model serves (an
# upload is priced per megabyte by a setting, not by a model).
MODEL_KINDS = tuple(kind for kind in Feature if kind is not Feature.FILES)


# The /v1 routes a provider may be asked for (``endpoints`` in its [providers.X] table).
GATEWAY_ENDPOINTS = frozenset(
    {
        "chat/completions",
        "completions",
        "embeddings",
        "responses",
        "images/generations",
        "images/edits",
        "images/variations",
        "audio/speech",
        "audio/transcriptions",
        "audio/translations",
        "files",
    }
)

# The names a chat model's server may take its output limit under (``limit_parameter``):
# vLLM, Ollama and older servers know only ``max_tokens``; OpenAI's reasoning models
# (o1, o3, o4-mini, gpt-5, ...) refuse it with a 400 and take only
# ``max_completion_tokens``.
LIMIT_PARAMETERS = ("max_tokens", "max_completion_tokens")


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    name: str
    base_url: str | None  # None: use OPENAI_BASE_URL
    api_key_env: str
    # None: every route is tried (a server lacking one answers it with a bare 404).
    endpoints: frozenset[str] | None = None

    def offers(self, endpoint: str) -> bool:
        return self.endpoints is None or endpoint in self.endpoints


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    kind: Feature
    provider: str
    upstream: str
    roles: frozenset[Role]
    input_per_1k: int = 0  # sub-units per 1,000 prompt tokens
    output_per_1k: int = 0
    # Prompt tokens the upstream read from its cache (usage.prompt_tokens_details
    # .cached_tokens), when the models file prices them apart; else the input price.
    cached_input_per_1k: int | None = None
    max_output_tokens: int = 1024
    fallbacks: tuple[str, ...] = ()
    per_image: int = 0
    per_1k_chars: int = 0
    per_minute: int = 0
    image_size: str = "1024x1024"
    voice: str = "alloy"
    vision: bool = False  # a chat model that takes image content parts
    # The key /v1/chat/completions adds the output limit under when the client gave
    # none (one of LIMIT_PARAMETERS); a client's own key always goes up as sent.
    limit_parameter: str = "max_tokens"

    def allows(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class ModelCatalog:
    providers: dict[str, ProviderSpec]
    models: dict[str, ModelSpec]
    defaults: dict[Feature, str]

    def get(self, name: str) -> ModelSpec | None:
        return self.models.get(name)

    def usable(self, role: Role, kind: Feature) -> list[ModelSpec]:
        return [m for m in self.models.values() if m.kind is kind and m.allows(role)]

    def vision_model_for(self, role: Role) -> ModelSpec | None:
        """A chat model this role may use that takes pictures (the default first)."""
        default = self.default_for(Feature.CHAT)
        candidates = ([default] if default else []) + self.usable(role, Feature.CHAT)
        return next((m for m in candidates if m.vision and m.allows(role)), None)

    def default_for(self, kind: Feature) -> ModelSpec | None:
        name = self.defaults.get(kind)
        return self.models.get(name) if name else None


def load_models_file(path: str | Path) -> ModelCatalog:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelsFileError(f"models file {path}: {exc}") from exc
    return parse_models(data)


def parse_models(data: dict[str, object]) -> ModelCatalog:
    providers = {name: _provider(name, body) for name, body in _table(data, "providers").items()}
    # Without a [providers.openai] table, "openai" means OPENAI_BASE_URL / OPENAI_API_KEY.
    providers.setdefault("openai", ProviderSpec("openai", None, "OPENAI_API_KEY"))
    models = {name: _model(name, body, providers) for name, body in _table(data, "models").items()}
    for model in models.values():
        for fallback in model.fallbacks:
            other = models.get(fallback)
            if other is None or other.kind is not model.kind:
                raise ModelsFileError(
                    f"models.{model.name}.fallbacks: {fallback!r} is not a {model.kind} model"
                )
    defaults: dict[Feature, str] = {}
    for kind in MODEL_KINDS:
        key = f"default_{kind.value}_model"
        chosen = data.get(key)
        if chosen is not None and (not isinstance(chosen, str) or chosen not in models):
            raise ModelsFileError(f"{key}: {chosen!r} is not a model in this file")
        first = next((m.name for m in models.values() if m.kind is kind), None)
        name = chosen if isinstance(chosen, str) else first
        if name is not None:
            defaults[kind] = name
    return ModelCatalog(providers=providers, models=models, defaults=defaults)


def _table(data: dict[str, object], key: str) -> dict[str, dict[str, object]]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ModelsFileError(f"[{key}] must be a table of tables")
    return value


def _provider(name: str, body: dict[str, object]) -> ProviderSpec:
    base_url = body.get("base_url")
    key_env = body.get("api_key_env", "OPENAI_API_KEY")
    if base_url is not None and not isinstance(base_url, str):
        raise ModelsFileError(f"providers.{name}.base_url must be a string")
    if not isinstance(key_env, str):
        raise ModelsFileError(f"providers.{name}.api_key_env must be a string")
    endpoints: frozenset[str] | None = None
    if "endpoints" in body:
        where = f"providers.{name}.endpoints"
        endpoints = frozenset(str(e) for e in _list(body["endpoints"], where))
        unknown = sorted(endpoints - GATEWAY_ENDPOINTS)
        if unknown:
            raise ModelsFileError(f"{where}: unknown {', '.join(unknown)}")
    return ProviderSpec(name=name, base_url=base_url, api_key_env=key_env, endpoints=endpoints)


_PRICE_KEYS = {
    "input_credits_per_1k": "input_per_1k",
    "output_credits_per_1k": "output_per_1k",
    "cached_input_credits_per_1k": "cached_input_per_1k",
    "credits_per_image": "per_image",
    "credits_per_1k_chars": "per_1k_chars",
    "credits_per_minute": "per_minute",
}


def _model(name: str, body: dict[str, object], providers: dict[str, ProviderSpec]) -> ModelSpec:
    where = f"models.{name}"
    try:
        kind = Feature(str(body.get("kind", "chat")))
    except ValueError:
        kind = None
    if kind not in MODEL_KINDS:
        raise ModelsFileError(
            f"{where}.kind must be one of {', '.join(k.value for k in MODEL_KINDS)}"
        )
    provider = str(body.get("provider", "openai"))
    if provider not in providers:
        raise ModelsFileError(f"{where}.provider: {provider!r} is not in [providers]")
    try:
        roles = frozenset(
            Role(str(r)) for r in _list(body.get("roles", ["guest", "user", "admin"]), where)
        )
    except ValueError as exc:
        raise ModelsFileError(f"{where}.roles: {exc}") from exc
    prices: dict[str, int] = {}
    for key, attr in _PRICE_KEYS.items():
        if key in body:
            try:
                prices[attr] = to_micro(body[key])
            except PriceError as exc:
                raise ModelsFileError(f"{where}.{key}: {exc}") from exc
            if prices[attr] < 0:
                raise ModelsFileError(f"{where}.{key} must not be negative")
    max_tokens = body.get("max_output_tokens", 1024)
    if not isinstance(max_tokens, int) or max_tokens <= 0:
        raise ModelsFileError(f"{where}.max_output_tokens must be a positive integer")
    vision = body.get("vision", False)
    if not isinstance(vision, bool) or (vision and kind is not Feature.CHAT):
        raise ModelsFileError(f"{where}.vision must be true or false, on chat models only")
    limit_parameter = body.get("limit_parameter", "max_tokens")
    if limit_parameter not in LIMIT_PARAMETERS or (
        "limit_parameter" in body and kind is not Feature.CHAT
    ):
        raise ModelsFileError(
            f"{where}.limit_parameter must be one of {', '.join(LIMIT_PARAMETERS)},"
            f" on chat models only (got {limit_parameter!r})"
        )
    return ModelSpec(
        name=name,
        vision=vision,
        limit_parameter=str(limit_parameter),
        kind=kind,
        provider=provider,
        upstream=str(body.get("upstream", name)),
        roles=roles,
        max_output_tokens=max_tokens,
        fallbacks=tuple(str(f) for f in _list(body.get("fallbacks", []), where)),
        image_size=str(body.get("size", "1024x1024")),
        voice=str(body.get("voice", "alloy")),
        **prices,
    )


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise ModelsFileError(f"{where}: expected a list, got {value!r}")
    return value
