"""The bot's own words, translated. Catalogs are TOML files beside this module, one per
language, with the same keys; English is the fallback for a missing key or language."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

DEFAULT_LANGUAGE = "en"


@cache
def available_languages() -> tuple[str, ...]:
    names = (entry.name for entry in resources.files(__package__).iterdir())
    return tuple(sorted(name.removesuffix(".toml") for name in names if name.endswith(".toml")))


@cache
def _catalog(language: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath(f"{language}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def _flatten(table: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def normalize_language(code: str | None) -> str | None:
    """'ru-RU', 'ru_RU', 'RU' → 'ru' when we have it; None otherwise."""
    if not code:
        return None
    short = code.replace("_", "-").split("-")[0].lower()
    return short if short in available_languages() else None


def translate(language: str | None, key: str, /, **params: object) -> str:
    lang = normalize_language(language) or DEFAULT_LANGUAGE
    template = _catalog(lang).get(key) or _catalog(DEFAULT_LANGUAGE).get(key)
    if template is None:
        return key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        # A translation with a wrong placeholder must not take a reply down with it.
        return _catalog(DEFAULT_LANGUAGE).get(key, key).format_map(_Lenient(params))


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Translator:
    """Bound to one language, so adapters can write ``t("help.text")``."""

    def __init__(self, language: str | None) -> None:
        self.language = normalize_language(language) or DEFAULT_LANGUAGE

    def __call__(self, key: str, /, **params: object) -> str:
        return translate(self.language, key, **params)
