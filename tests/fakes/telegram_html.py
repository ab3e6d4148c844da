"""Telegram's HTML parse mode, as strict as the real server: text and entities, or the
"can't parse entities" error the Bot API answers."""

from __future__ import annotations

import html
import re
from typing import Any

_TOKEN = re.compile(
    r"<(?P<end>/?)(?P<tag>[a-zA-Z][\w-]*)(?P<attrs>(?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>"
    r"|&(?P<entity>#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);"
    r"|(?P<lt><)"
)
_ATTR = re.compile(r"([\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "span": "spoiler",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(Exception):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities (offsets in UTF-16 units) of an HTML-formatted text."""
    out: list[str] = []
    length = 0
    stack: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    for match in _TOKEN.finditer(source):
        chunk = source[pos : match.start()]
        out.append(chunk)
        length += utf16_len(chunk)
        pos = match.end()
        offset = len(source[: match.start()].encode())
        if match.group("lt"):
            raise EntityParseError(f"Unexpected end of name token at byte offset {offset}")
        if entity := match.group("entity"):
            char = _entity(entity, offset)
            out.append(char)
            length += utf16_len(char)
            continue
        tag = match.group("tag").lower()
        if tag not in _TYPES:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {offset}')
        if not match.group("end"):
            stack.append((tag, length, _entity_fields(tag, match.group("attrs"), stack)))
            continue
        if not stack or stack[-1][0] != tag:
            expected = f'"</{stack[-1][0]}>"' if stack else "no end tag"
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected {expected}, found "</{tag}>"'
            )
        _, start, fields = stack.pop()
        if fields and length > start:
            entities.append({"offset": start, "length": length - start, **fields})
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    out.append(source[pos:])
    entities.sort(key=lambda item: (item["offset"], -item["length"]))
    return "".join(out), entities


def _entity(name: str, offset: int) -> str:
    if name.startswith("#"):
        return html.unescape(f"&{name};")
    if name not in _NAMED:
        raise EntityParseError(f'Unsupported HTML entity "&{name};" at byte offset {offset}')
    return _NAMED[name]


def _entity_fields(
    tag: str, attrs: str, stack: list[tuple[str, int, dict[str, Any]]]
) -> dict[str, Any]:
    values = {name: first or second for name, first, second in _ATTR.findall(attrs or "")}
    if tag == "a":
        if "href" not in values:
            return {}
        return {"type": "text_link", "url": values["href"]}
    if tag == "span" and values.get("class") != "tg-spoiler":
        raise EntityParseError('Tag "span" must have class "tg-spoiler"')
    if tag == "code" and stack and stack[-1][0] == "pre":
        language = values.get("class", "").removeprefix("language-")
        if language:
            stack[-1][2]["language"] = language
        return {}
    return {"type": _TYPES[tag]}
