"""The one parse step: markdown-it-py set up for the model's answers.

CommonMark with GFM strikethrough, raw HTML off (it shows as text) and Telegram's
``||spoiler||`` as an inline rule. Tables are not enabled: a parsed table drops a row's
cells beyond the header's, while unparsed its lines stay as written (inline styles apply).
"""

from __future__ import annotations

import bisect
import functools
import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

# The default text rule stops at these characters so other inline rules can fire; "|" is
# added for the spoiler rule (markdown-it-py 3 has no public way to add a terminator).
_TEXT_RUN = re.compile(r"[^\n!#$%&*+\-:<=>@\[\\\]^_`{}~|]+")
_LANGUAGE = re.compile(r"[\w+#.-]+")
_BARS = re.compile(r"(?=\|\|)")


def _text(state: StateInline, silent: bool) -> bool:
    match = _TEXT_RUN.match(state.src, state.pos, state.posMax)
    if not match:
        return False
    if not silent:
        state.pending += match.group()
    state.pos = match.end()
    return True


@functools.lru_cache(maxsize=16)
def _bars(src: str) -> tuple[dict[int, int], tuple[list[int], list[int]]]:
    """Where ``||`` stands in ``src``: the parity of the backticks before each, and the
    places that can close a spoiler (not after a space) split by that parity."""
    parity: dict[int, int] = {}
    closers: tuple[list[int], list[int]] = ([], [])
    ticks, last = 0, 0
    for match in _BARS.finditer(src):
        at = match.start()
        ticks += src.count("`", last, at)
        last = at
        parity[at] = ticks % 2
        if at and not src[at - 1].isspace():
            closers[ticks % 2].append(at)
    return parity, closers


def _spoiler(state: StateInline, silent: bool) -> bool:
    """``||hidden||`` (Telegram's spoiler): content that neither starts nor ends with a space."""
    start, src = state.pos, state.src
    if not src.startswith("||", start) or start + 2 >= state.posMax or src[start + 2].isspace():
        return False
    # The first closing bars after an even number of backticks (not inside a code span).
    parity, closers = _bars(src)
    candidates = closers[parity[start]]
    index = bisect.bisect_left(candidates, start + 3)
    if index == len(candidates) or candidates[index] + 2 > state.posMax:
        return False
    end = candidates[index]
    if not silent:
        state.push("spoiler_open", "tg-spoiler", 1).markup = "||"
        limit, state.pos, state.posMax = state.posMax, start + 2, end
        state.md.inline.tokenize(state)
        state.posMax = limit
        state.push("spoiler_close", "tg-spoiler", -1).markup = "||"
    state.pos = end + 2
    return True


@functools.cache
def parser() -> MarkdownIt:
    """The configured parser (built once)."""
    md = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
    md.inline.ruler.at("text", _text)
    md.inline.ruler.before("emphasis", "spoiler", _spoiler)
    return md


def parse(text: str) -> list[Token]:
    """The flat token stream of a whole answer (nesting tokens open and close)."""
    return parser().parse(text)


def language_of(info: str) -> str:
    """A fence's language tag when it is a plain name (``python``, ``c++``), else ""."""
    word = info.split(maxsplit=1)[0] if info.strip() else ""
    return word if _LANGUAGE.fullmatch(word) else ""
