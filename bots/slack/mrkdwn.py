"""The model's Markdown as Slack mrkdwn (used on the final text of an edited message).

``bots.markdown`` parses the text (CommonMark) and lays out the blocks; this module says
what Slack's dialect looks like: ``*bold*``, ``_italic_``, ``~strike~``, ``<url|text>``
links, code spans and fences as in Markdown (a fence's language tag would show as text, so
it goes), no headings (they become bold lines), no list syntax (bullets become "•") and
quotes as "> " line prefixes. ``&``, ``<`` and ``>`` are escaped everywhere else. Slack has
no backslash escape, so a literal ``*``, ``_``, ``~`` or backtick that Slack could read as
a formatting marker gets zero-width spaces on both sides.
"""

from __future__ import annotations

import re

from bots.markdown import Renderer

_MARKS = {"em": "_", "strong": "*", "s": "~", "spoiler": "||"}
# A marker between two spaces ("2 * 3") or inside a word (snake_case) formats nothing; at
# either end of a piece of text the neighbour is unknown, so the marker is not loose.
_LOOSE_MARKER = re.compile(r"(?<=\s)[*_~`](?=\s)|(?<=[^\W_])[*_~`](?=[^\W_])")
_MARKER = re.compile(r"[*_~`]")
_ZWSP = "\u200b"
_FENCE_IN_BODY = re.compile(r"``(?=`)")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inert(text: str) -> str:
    """``text`` with every marker Slack could pair up wrapped in zero-width spaces."""
    loose = {match.start() for match in _LOOSE_MARKER.finditer(text)}
    return _MARKER.sub(
        lambda m: m.group() if m.start() in loose else _ZWSP + m.group() + _ZWSP, text
    )


class SlackMrkdwn(Renderer):
    def text(self, text: str) -> str:
        return escape(text) if self.in_link else _inert(escape(text))

    def code(self, text: str) -> str:
        # A backtick would end the span early: such a span stays (inert) text.
        return self.text(text) if "`" in text else f"`{escape(text)}`"

    def style(self, kind: str, inner: str) -> str:
        if self.in_link:  # Slack shows a link's label as written
            return inner
        return _MARKS[kind] + inner + _MARKS[kind]

    def link(self, url: str, label: str) -> str:
        target = escape(url)
        return f"<{target}>" if label == target else f"<{target}|{label}>"

    def code_block(self, body: str, language: str) -> str:
        # Three backticks in the body would end the block early.
        body = _FENCE_IN_BODY.sub("``" + _ZWSP, escape(body))
        return f"```\n{body}\n```" if body else "```\n```"

    def quote(self, body: str) -> str:
        if self.quote_depth:  # Slack quotes do not nest; the outer quote prefixes the lines
            return body
        # Slack quotes only at a line's start: in a list item the marker is shown as text.
        marker = "&gt; " if self.list_depth else "> "
        return "\n".join(marker + line for line in body.split("\n"))


def markdown_to_mrkdwn(text: str) -> str:
    return SlackMrkdwn().render(text)
