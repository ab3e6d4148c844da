"""Split a long answer into messages that each fit a platform's limit.

Cuts fall at paragraph, then line, then sentence, then word boundaries, and outside
fenced code blocks when that is possible. A code block too long for one message is cut
at a line inside it; the piece gets a closing fence and the next one reopens the block
with the same language, so every piece renders on its own. Nothing is ever dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

LengthFn = Callable[[str], int]

_FENCE_LINE = re.compile(r"^ {0,3}(```+|~~~+)[ \t]*([^\s`]*)[^\n]*$", re.MULTILINE)
_CLOSE_ROOM = 8  # room for the closing "\n```" of a code block cut in two
# Preferred boundaries, best first: where the next piece would start.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*"),  # paragraph
    re.compile(r"\n"),  # line
    re.compile(r"(?<=[.!?…])[\"')\]]*[ \t]+"),  # sentence
    re.compile(r"[ \t]+"),  # word
)
# A boundary this early in the window would leave a stub of a message; try a weaker kind.
_MIN_FILL = 0.3


@dataclass(frozen=True, slots=True)
class Cut:
    """The first piece of a text and where the remainder starts.

    ``rest_start`` indexes the text that was cut; ``reopen`` goes before the remainder
    (a reopened code fence, or "")."""

    head: str
    rest_start: int
    reopen: str = ""


@dataclass(frozen=True, slots=True)
class _Block:
    start: int  # index of the opening fence line
    body: int  # index just after the opening fence line
    end: int  # index just after the closing fence line (len(text) when unclosed)
    fence: str
    lang: str


def code_blocks(text: str) -> list[_Block]:
    """Fenced code blocks of ``text``; an unclosed fence runs to the end."""
    blocks: list[_Block] = []
    open_match: re.Match[str] | None = None
    for match in _FENCE_LINE.finditer(text):
        if open_match is None:
            open_match = match
            continue
        fence = open_match.group(1)
        if match.group(1).startswith(fence[0] * len(fence)) and not match.group(2):
            blocks.append(_block(text, open_match, match.end()))
            open_match = None
    if open_match is not None:
        blocks.append(_block(text, open_match, len(text)))
    return blocks


def _block(text: str, opening: re.Match[str], end: int) -> _Block:
    body = min(opening.end() + 1, len(text))
    return _Block(opening.start(), body, end, opening.group(1), opening.group(2))


def fits(text: str, limit: int, length: LengthFn = len) -> bool:
    return length(text) <= limit


def _window(text: str, limit: int, length: LengthFn) -> int:
    """The largest ``w`` with ``length(text[:w]) <= limit`` (binary search: ``length``
    may count UTF-16 units, not code points)."""
    low, high = 0, min(len(text), limit)
    if length(text[:high]) <= limit:
        return high
    while low < high:
        mid = (low + high + 1) // 2
        if length(text[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return low


def _inside(blocks: list[_Block], pos: int) -> _Block | None:
    for block in blocks:
        if block.start < pos < block.end:
            return block
    return None


def _boundary(text: str, lo: int, hi: int, blocks: list[_Block]) -> int | None:
    """Where the remainder should start: the best boundary in ``(lo, hi]`` outside code."""
    fallback: int | None = None
    first = len(text) - len(text.lstrip())
    for pattern in _BOUNDARIES:
        best = None
        for match in pattern.finditer(text, lo, hi):
            start = match.end()
            if match.start() <= first:
                continue
            if _inside(blocks, match.start()) is None and _inside(blocks, start) is None:
                best = start
        if best is not None:
            if best >= hi * _MIN_FILL:
                return best
            fallback = max(best, fallback or 0)
    return fallback


def cut_first(text: str, limit: int, length: LengthFn = len, *, keep: int = 0) -> Cut:
    """Cut the first piece off ``text`` (which is longer than ``limit``).

    The cut falls after ``keep`` characters (the reopened fence of a previous cut)."""
    blocks = code_blocks(text)
    window = _window(text, limit, length)
    start = _boundary(text, keep, window, blocks)
    if start is not None:
        return Cut(text[:start].rstrip(), start)
    block = _inside(blocks, window)
    if block is not None:
        window = _window(text, limit - _CLOSE_ROOM, length)
    if block is None or window <= block.body:
        # One unbreakable run (or no room for a line of code): a hard cut keeps progress.
        hard = max(window, keep + 1)
        return Cut(text[:hard], hard)
    closing = text[: block.end]
    if not text[window : block.end].strip("`~ \t\n") and length(closing) <= limit:
        return Cut(closing, block.end)  # only the closing fence was left over: keep it
    newline = text.rfind("\n", block.body, window)
    start = newline + 1 if newline >= block.body and newline + 1 > keep else window
    head = text[:start]
    if not head.endswith("\n"):
        head += "\n"
    return Cut(head + block.fence, start, f"{block.fence}{block.lang}\n")


def split_text(text: str, limit: int, length: LengthFn = len) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` (as measured by ``length``)."""
    if limit < 32:
        raise ValueError("limit too small to split sensibly")
    pieces: list[str] = []
    rest = text
    keep = 0
    while length(rest) > limit:
        cut = cut_first(rest, limit, length, keep=keep)
        if cut.head.strip():
            pieces.append(cut.head)
        rest = cut.reopen + rest[cut.rest_start :]
        keep = len(cut.reopen)
    if rest.strip():
        pieces.append(rest.rstrip())
    return pieces
