"""A small JSON Schema checker for the subset the OpenAPI document uses, so that the
schemas published at /openapi.json are the very ones requests are checked against."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]


class Invalid(ValueError):
    """The first problem found, with where it is (``body.messages[0].role``)."""


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
    "integer": (int,),
}


def _is(value: object, kind: str) -> bool:
    if kind in {"integer", "number"} and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()  # JSON Schema: 1.0 is an integer
    if kind == "number" and isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return isinstance(value, _TYPES[kind])


def validate(value: object, schema: Schema, where: str, components: Mapping[str, Schema]) -> None:
    if "$ref" in schema:
        schema = components[str(schema["$ref"]).rsplit("/", 1)[-1]]
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf") or []
        for option in options:
            try:
                validate(value, option, where, components)
                return
            except Invalid:
                continue
        raise Invalid(f"{where}: does not match any allowed form")
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(value, k) for k in allowed):
            raise Invalid(f"{where}: must be {' or '.join(allowed)}")
    if "enum" in schema and value not in schema["enum"]:
        raise Invalid(f"{where}: must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, str):
        _string(value, schema, where)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _number(value, schema, where)
    elif isinstance(value, list):
        _array(value, schema, where, components)
    elif isinstance(value, dict):
        _object(value, schema, where, components)


def _string(value: str, schema: Schema, where: str) -> None:
    if len(value) < schema.get("minLength", 0):
        raise Invalid(f"{where}: at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise Invalid(f"{where}: at most {schema['maxLength']} characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise Invalid(f"{where}: does not match {schema['pattern']}")


def _number(value: float, schema: Schema, where: str) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise Invalid(f"{where}: at least {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        raise Invalid(f"{where}: at most {schema['maximum']}")


def _array(value: list[Any], schema: Schema, where: str, components: Mapping[str, Schema]) -> None:
    if len(value) < schema.get("minItems", 0):
        raise Invalid(f"{where}: at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise Invalid(f"{where}: at most {schema['maxItems']} items")
    for index, item in enumerate(value):
        validate(item, schema.get("items", {}), f"{where}[{index}]", components)


def _object(
    value: dict[str, Any], schema: Schema, where: str, components: Mapping[str, Schema]
) -> None:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            raise Invalid(f"{where}.{name}: required")
    for name, item in value.items():
        if name in properties:
            validate(item, properties[name], f"{where}.{name}", components)
        elif schema.get("additionalProperties", True) is False:
            raise Invalid(f"{where}.{name}: unknown field")
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        raise Invalid(f"{where}: at least {schema['minProperties']} fields")
