"""The model's Markdown as Slack mrkdwn (used on the final text of an edited message).

Slack's dialect: ``*bold*``, ``_italic_``, ``~strike~``, ``<url|text>`` links, code spans
and fences as in Markdown (a fence's language tag would show as text, so it goes), no
headings (they become bold lines) and no list syntax (bullets become "•"). ``&``, ``<``
and ``>`` are escaped everywhere except in a line's leading quote marker.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(```+|~~~+)[^\n]*\n(.*?)(?:^ {0,3}\1[ \t]*$|\Z)", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*(https?://[^)\s]+|mailto:[^)\s]+)\s*\)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__", re.S)
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.M)
_QUOTE = re.compile(r"^([ \t]*)>[ \t]?", re.M)
_HRULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_BOLD_MARK = "\x02"
_QUOTE_MARK = "\x03"
_SLOT = "\x04{}\x04"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_to_mrkdwn(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _FENCE.finditer(text):
        out.append(_inline(text[position : match.start()]))
        body = match.group(2).rstrip("\n")
        out.append(f"```\n{escape(body)}\n```" if body else "```\n```")
        position = match.end()
    out.append(_inline(text[position:]))
    return "".join(out)


def _inline(text: str) -> str:
    if not text:
        return text
    slots: list[str] = []

    def keep(value: str) -> str:
        slots.append(value)
        return _SLOT.format(len(slots) - 1)

    text = _QUOTE.sub(lambda m: m.group(1) + _QUOTE_MARK, text)
    text = _CODE_SPAN.sub(lambda m: keep("`" + escape(m.group(2)) + "`"), text)
    text = _LINK.sub(lambda m: keep(f"<{escape(m.group(2))}|{escape(m.group(1))}>"), text)
    text = escape(text)
    text = _HRULE.sub("──────────", text)
    text = _HEADING.sub(lambda m: _BOLD_MARK + _strip_bold(m.group(1)) + _BOLD_MARK, text)
    text = _BOLD.sub(lambda m: _BOLD_MARK + (m.group(1) or m.group(2)) + _BOLD_MARK, text)
    text = _ITALIC.sub(lambda m: "_" + m.group(1) + "_", text)
    text = _STRIKE.sub(lambda m: "~" + m.group(1) + "~", text)
    text = _BULLET.sub(lambda m: m.group(1) + "• ", text)
    text = text.replace(_BOLD_MARK, "*").replace(_QUOTE_MARK, "> ")
    return re.sub("\x04(\\d+)\x04", lambda m: slots[int(m.group(1))], text)


def _strip_bold(text: str) -> str:
    return text.replace("**", "").replace("__", "")
