"""The walk every platform shares, over the parser's flat token stream.

``Renderer`` owns the layout: blocks keep the source's blank lines, headings become bold
lines, list items get "•" or their number, images become links labelled by their alt
text, links to unsafe schemes become "label (url)", and a style already open is not
opened again inside itself. A subclass per platform says how text, code, styles, links,
code blocks and quotes look. The walk keeps its own stacks rather than recursing, so deep
nesting (a thousand ``*``) cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it.token import Token

from bots.markdown.parser import language_of, parse, parser

_STYLES = frozenset({"em", "strong", "s", "spoiler"})
_NEWLINE = re.compile(r"\r\n?")
RULE = "──────────"


def _blank(line: str) -> bool:
    return not line.replace(">", "").strip()


def _plain(tokens: Sequence[Token]) -> str:
    """The words of an image's alt text (alt text has no styles)."""
    out: list[str] = []
    todo = list(reversed(tokens))
    while todo:
        token = todo.pop()
        if token.children:
            todo.extend(reversed(token.children))
        elif token.type in ("text", "text_special", "code_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


@dataclass
class _Block:
    opener: Token | None
    parts: list[tuple[int, str]] = field(default_factory=list)  # (first source line, text)


@dataclass
class _Span:
    opener: Token | None
    outer_in_link: bool = False
    parts: list[str] = field(default_factory=list)


class Renderer(ABC):
    """One rendering of one text: walks the tokens, asks the platform hooks for the pieces."""

    safe_schemes: tuple[str, ...] = ("http://", "https://", "mailto:")

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._open: Counter[str] = Counter()
        self.in_link = False
        self.quote_depth = 0
        self.list_depth = 0

    # The platform's hooks.
    @abstractmethod
    def text(self, text: str) -> str:
        """Literal text, escaped so the platform shows it as written."""

    @abstractmethod
    def code(self, text: str) -> str:
        """An inline code span."""

    @abstractmethod
    def style(self, kind: str, inner: str) -> str:
        """Rendered ``inner`` in a style: ``em``, ``strong``, ``s`` or ``spoiler``."""

    @abstractmethod
    def link(self, url: str, label: str) -> str:
        """A link to a safe URL (``label`` is already rendered, with ``in_link`` set)."""

    @abstractmethod
    def code_block(self, body: str, language: str) -> str:
        """A fenced or indented code block (``language`` may be "")."""

    @abstractmethod
    def quote(self, body: str) -> str:
        """A block quote around rendered blocks (``quote_depth`` says how deep it sits)."""

    # Blocks.
    def render(self, source: str) -> str:
        self._lines = _NEWLINE.sub("\n", source).split("\n")
        tokens = parse(source)
        limit = int(parser().options["maxNesting"]) - 1
        if any(token.block and token.level >= limit for token in tokens):
            # The parser drops what is nested deeper than its limit: show the text as written.
            return self.text(source)
        stack = [_Block(None)]
        for token in tokens:
            if token.nesting == 1:
                self._enter(token)
                stack.append(_Block(token))
            elif token.nesting == -1:
                block = stack.pop()
                stack[-1].parts.append((_first_line(block.opener), self._leave(block)))
            else:
                stack[-1].parts.append((_first_line(token), self._leaf(token)))
        return self._joined(stack[0].parts)

    def render_inline(self, source: str) -> str:
        """One line or paragraph, without block structure."""
        tokens = parser().parseInline(source)
        return self._inline(tokens[0].children or []) if tokens else ""

    def _joined(self, parts: list[tuple[int, str]]) -> str:
        """Parts one line apart, or a blank line apart where the source had one."""
        out = [text for _, text in parts[:1]]
        for line, text in parts[1:]:
            gap = 0 < line <= len(self._lines) and _blank(self._lines[line - 1])
            out.append("\n\n" if gap else "\n")
            out.append(text)
        return "".join(out)

    def _enter(self, opener: Token) -> None:
        if opener.type == "heading_open":
            self._open["strong"] += 1
        elif opener.type == "blockquote_open":
            self.quote_depth += 1
        elif opener.type == "list_item_open":
            self.list_depth += 1

    def _leave(self, block: _Block) -> str:
        kind = block.opener.type if block.opener else ""
        body = self._joined(block.parts)
        if kind == "heading_open":
            self._open["strong"] -= 1
            return self._styled("strong", body)
        if kind == "blockquote_open":
            self.quote_depth -= 1
            return self.quote(body)
        if kind == "list_item_open":
            self.list_depth -= 1
        if kind in ("bullet_list_open", "ordered_list_open") and block.opener:
            return self._list(block.opener, block.parts)
        return body

    def _list(self, opener: Token, items: list[tuple[int, str]]) -> str:
        number = int(str(opener.attrs.get("start", 1)))
        marked: list[tuple[int, str]] = []
        for line, body in items:
            ordered = opener.type == "ordered_list_open"
            marker = f"{number}{opener.markup} " if ordered else "• "
            number += 1
            first, *rest = body.split("\n")
            # Continuation lines line up under the item's text.
            rest = [" " * len(marker) + text if text else text for text in rest]
            marked.append((line, "\n".join([marker + first, *rest]).rstrip()))
        return self._joined(marked)

    def _leaf(self, token: Token) -> str:
        if token.type == "inline":
            return self._inline(token.children or [])
        if token.type in ("fence", "code_block"):
            return self.code_block(token.content.removesuffix("\n"), language_of(token.info))
        if token.type == "hr":
            return RULE
        return self.text(token.content.removesuffix("\n"))  # html_block, when raw HTML is off

    # Spans.
    def _inline(self, tokens: Sequence[Token]) -> str:
        stack = [_Span(None)]
        for token in tokens:
            if token.nesting == 1:
                stack.append(_Span(token, self.in_link))
                self._open_span(token)
            elif token.nesting == -1:
                span = stack.pop()
                stack[-1].parts.append(self._close_span(span))
            else:
                stack[-1].parts.append(self._span(token))
        return "".join(stack[0].parts)

    def _span(self, token: Token) -> str:
        if token.type in ("softbreak", "hardbreak"):
            return "\n"
        if token.type == "code_inline":
            return self.text(token.content) if self.in_link else self.code(token.content)
        if token.type == "image":
            url = str(token.attrs.get("src", ""))
            outer, self.in_link = self.in_link, self.in_link or self._safe(url)
            try:
                alt = self.text(_plain(token.children or []))
            finally:
                self.in_link = outer
            return self._link(url, alt, outer, autolink=False)
        return self.text(token.content)  # text, text_special, html_inline

    def _open_span(self, opener: Token) -> None:
        kind = opener.type.removesuffix("_open")
        if kind in _STYLES:
            self._open[kind] += 1
        elif kind == "link" and self._safe(str(opener.attrs.get("href", ""))):
            self.in_link = True

    def _close_span(self, span: _Span) -> str:
        inner = "".join(span.parts)
        opener = span.opener
        kind = opener.type.removesuffix("_open") if opener else ""
        if kind in _STYLES:
            self._open[kind] -= 1
            return self._styled(kind, inner)
        if kind == "link" and opener:
            self.in_link = span.outer_in_link
            url = str(opener.attrs.get("href", ""))
            return self._link(url, inner, span.outer_in_link, opener.markup == "autolink")
        return inner

    def _styled(self, kind: str, inner: str) -> str:
        """``inner`` in the style, unless the same style is already open around it."""
        return inner if self._open[kind] or not inner else self.style(kind, inner)

    def _safe(self, url: str) -> bool:
        return url.lower().startswith(self.safe_schemes)

    def _link(self, url: str, label: str, nested: bool, autolink: bool) -> str:
        if nested:  # an image in a link's label: its alt text
            return label
        safe = self._safe(url)
        if not label or (not safe and url and not autolink):
            outer, self.in_link = self.in_link, safe
            try:  # the parser percent-encoded the URL; show it as written
                shown = self.text(parser().normalizeLinkText(url))
            finally:
                self.in_link = outer
            if safe:
                return self.link(url, label or shown)
            return f"{label} ({shown})" if label else shown
        return self.link(url, label) if safe else label


def _first_line(token: Token | None) -> int:
    return token.map[0] if token and token.map else -1
