"""The model's Markdown parsed once by a CommonMark parser, walked for a platform renderer.

markdown-it-py (CommonMark plus GFM strikethrough, raw HTML off, and Telegram's
``||spoiler||``) decides what is emphasis, code or a link, so nesting such as
``**bold *and italic***`` comes out right and markers that do not pair stay literal text.
``Renderer`` walks the syntax tree and owns the layout every platform shares: blocks keep
the source's blank lines, headings become bold lines, list items get "•" or their number,
images become links labelled by their alt text, and a style already open is not opened
again inside itself. Tables are not parsed: their lines stay as written (inline styles
apply), because a parsed table drops a row's cells beyond the header's. A subclass per
platform says how text, code, styles, links, code blocks and quotes look
(``bots/telegram/markdown.py``, ``bots/slack/mrkdwn.py``).
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.tree import SyntaxTreeNode

# The default text rule stops at these characters so other inline rules can fire; "|" is
# added for the spoiler rule (markdown-it-py 3 has no public way to add a terminator).
_TEXT_RUN = re.compile(r"[^\n!#$%&*+\-:<=>@\[\\\]^_`{}~|]+")
_LANGUAGE = re.compile(r"[\w+#.-]+")
_STYLES = frozenset({"em", "strong", "s", "spoiler"})
RULE = "──────────"


def _text(state: StateInline, silent: bool) -> bool:
    match = _TEXT_RUN.match(state.src, state.pos, state.posMax)
    if not match:
        return False
    if not silent:
        state.pending += match.group()
    state.pos = match.end()
    return True


def _spoiler(state: StateInline, silent: bool) -> bool:
    """``||hidden||`` (Telegram's spoiler): content that neither starts nor ends with a space."""
    start, src = state.pos, state.src
    if not src.startswith("||", start) or start + 2 >= state.posMax or src[start + 2].isspace():
        return False
    end = src.find("||", start + 3, state.posMax)
    # Not before a space, and not inside a code span (an odd number of backticks on the way).
    while end != -1 and (src[end - 1].isspace() or src.count("`", start, end) % 2):
        end = src.find("||", end + 1, state.posMax)
    if end == -1:
        return False
    if not silent:
        state.push("spoiler_open", "tg-spoiler", 1).markup = "||"
        limit, state.pos, state.posMax = state.posMax, start + 2, end
        state.md.inline.tokenize(state)
        state.posMax = limit
        state.push("spoiler_close", "tg-spoiler", -1).markup = "||"
    state.pos = end + 2
    return True


@functools.cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
    parser.inline.ruler.at("text", _text)
    parser.inline.ruler.before("emphasis", "spoiler", _spoiler)
    return parser


def parse(text: str) -> SyntaxTreeNode:
    """The syntax tree of a whole answer."""
    return SyntaxTreeNode(_parser().parse(text))


def language_of(info: str) -> str:
    """A fence's language tag when it is a plain name (``python``, ``c++``), else ""."""
    word = info.split(maxsplit=1)[0] if info.strip() else ""
    return word if _LANGUAGE.fullmatch(word) else ""


def _blank(line: str) -> bool:
    return not line.replace(">", "").strip()


class Renderer(ABC):
    """One rendering of one text: walks the tree, asks the platform hooks for the pieces."""

    safe_schemes: tuple[str, ...] = ("http://", "https://", "mailto:")

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._open: set[str] = set()
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
        """A link to a safe URL (``label`` is already rendered)."""

    @abstractmethod
    def code_block(self, body: str, language: str) -> str:
        """A fenced or indented code block (``language`` may be "")."""

    @abstractmethod
    def quote(self, body: str) -> str:
        """A block quote around rendered blocks (``quote_depth`` says how deep it sits)."""

    # The walk.
    def render(self, source: str) -> str:
        self._lines = source.splitlines()
        return self._blocks(parse(source).children)

    def render_inline(self, source: str) -> str:
        """One line or paragraph, without block structure."""
        return self._inline(SyntaxTreeNode(_parser().parseInline(source)).children)

    def _blocks(self, nodes: Sequence[SyntaxTreeNode]) -> str:
        return self._joined(nodes, [self._block(node) for node in nodes])

    def _joined(self, nodes: Sequence[SyntaxTreeNode], parts: list[str]) -> str:
        """Parts one line apart, or a blank line apart where the source had one."""
        out = parts[:1]
        for node, part in zip(nodes[1:], parts[1:], strict=True):
            first = node.map[0] if node.map else 0
            gap = 0 < first <= len(self._lines) and _blank(self._lines[first - 1])
            out.append("\n\n" if gap else "\n")
            out.append(part)
        return "".join(out)

    def _block(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "heading":
            return self._styled("strong", node.children)
        if kind in ("bullet_list", "ordered_list"):
            return self._list(node)
        if kind == "blockquote":
            self.quote_depth += 1
            try:
                body = self._blocks(node.children)
            finally:
                self.quote_depth -= 1
            return self.quote(body)
        if kind in ("fence", "code_block"):
            return self.code_block(node.content.removesuffix("\n"), language_of(node.info))
        if kind == "hr":
            return RULE
        if kind == "html_block":
            return self.text(node.content.removesuffix("\n"))
        return self._inline(node.children)

    def _list(self, node: SyntaxTreeNode) -> str:
        number = int(str(node.attrs.get("start", 1)))
        items: list[str] = []
        for item in node.children:
            marker = f"{number}{item.markup} " if node.type == "ordered_list" else "• "
            number += 1
            self.list_depth += 1
            try:
                first, *rest = self._blocks(item.children).split("\n")
            finally:
                self.list_depth -= 1
            # Continuation lines line up under the item's text.
            rest = [" " * len(marker) + line if line else line for line in rest]
            items.append("\n".join([marker + first, *rest]).rstrip())
        return self._joined(node.children, items)

    def _inline(self, nodes: Sequence[SyntaxTreeNode]) -> str:
        return "".join(self._span(node) for node in nodes)

    def _span(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind in ("text", "html_inline"):
            return self.text(node.content)
        if kind in ("softbreak", "hardbreak"):
            return "\n"
        if kind == "code_inline":
            return self.text(node.content) if self.in_link else self.code(node.content)
        if kind in _STYLES:
            return self._styled(kind, node.children)
        if kind in ("link", "image"):
            return self._link(str(node.attrs.get("href") or node.attrs.get("src") or ""), node)
        return self._inline(node.children)

    def _styled(self, kind: str, children: Sequence[SyntaxTreeNode]) -> str:
        if kind in self._open:
            return self._inline(children)
        self._open.add(kind)
        try:
            inner = self._inline(children)
        finally:
            self._open.discard(kind)
        return self.style(kind, inner) if inner else inner

    def _link(self, url: str, node: SyntaxTreeNode) -> str:
        if self.in_link:  # an image in a link's label: its alt text
            return self._inline(node.children)
        shown = self.text(_parser().normalizeLinkText(url))  # the parser percent-encoded it
        if not url.lower().startswith(self.safe_schemes):
            label = self._inline(node.children)
            if not url or not label or node.markup == "autolink":
                return label or shown
            return f"{label} ({shown})"
        self.in_link = True
        try:
            label = self._inline(node.children) or shown
        finally:
            self.in_link = False
        return self.link(url, label)
