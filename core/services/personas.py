"""Named personas: a description people see in ``/persona``, a system prompt appended to
the bot's own, an optional default model, and the roles that may choose it.

Read once at start from ``PERSONAS_FILE`` (TOML, ``[personas.<name>]``); the composition
root reads the file, this module only parses and checks it, so a typo fails the start
with the key at fault instead of a persona that silently does nothing."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.models_config import ModelCatalog
from core.types import Feature, Role

MAX_NAME = 100  # the column's size (storage.tables.ChatSettingRow.persona)


class PersonasFileError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    description: str
    system_prompt: str
    model: str | None = None  # used unless the person picked a model with /model
    roles: frozenset[Role] = frozenset(Role)

    def allows(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class PersonaCatalog:
    personas: Mapping[str, Persona]

    def get(self, name: str) -> Persona | None:
        return self.personas.get(name.strip().casefold())

    def usable(self, role: Role) -> list[Persona]:
        return [p for p in self.personas.values() if p.allows(role)]


NO_PERSONAS = PersonaCatalog({})


def load_personas_file(path: str | Path, models: ModelCatalog) -> PersonaCatalog:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PersonasFileError(f"personas file {path}: {exc}") from exc
    return parse_personas(data, models)


def merged(*catalogs: PersonaCatalog) -> PersonaCatalog:
    """One catalog from several; a later catalog's persona wins over an earlier one's."""
    personas: dict[str, Persona] = {}
    for catalog in catalogs:
        personas.update(catalog.personas)
    return PersonaCatalog(personas)


def parse_personas(data: Mapping[str, object], models: ModelCatalog) -> PersonaCatalog:
    table = data.get("personas", {})
    if not isinstance(table, dict):
        raise PersonasFileError("personas: expected tables [personas.<name>]")
    personas: dict[str, Persona] = {}
    for name, body in table.items():
        persona = _persona(str(name), body, models)
        personas[persona.name] = persona
    return PersonaCatalog(personas)


def _persona(name: str, body: object, models: ModelCatalog) -> Persona:
    where = f"personas.{name}"
    key = name.strip().casefold()
    if not key or len(key) > MAX_NAME or any(c.isspace() for c in key):
        raise PersonasFileError(f"{where}: a name is one word of at most {MAX_NAME} characters")
    if not isinstance(body, dict):
        raise PersonasFileError(f"{where}: expected a table")
    prompt, description = body.get("system_prompt"), body.get("description", "")
    if not isinstance(prompt, str) or not prompt.strip():
        raise PersonasFileError(f"{where}.system_prompt: a non-empty string is required")
    if not isinstance(description, str):
        raise PersonasFileError(f"{where}.description: expected a string")
    model = body.get("model")
    if model is not None:
        spec = models.get(model) if isinstance(model, str) else None
        if spec is None or spec.kind is not Feature.CHAT:
            raise PersonasFileError(f"{where}.model: {model!r} is not a chat model")
    roles = body.get("roles", [r.value for r in Role])
    if not isinstance(roles, list) or not roles:
        raise PersonasFileError(f"{where}.roles: expected a list of roles")
    try:
        allowed = frozenset(Role(str(r)) for r in roles)
    except ValueError as exc:
        raise PersonasFileError(f"{where}.roles: {exc}") from exc
    return Persona(key, description.strip(), prompt.strip(), model, allowed)
