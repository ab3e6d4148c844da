"""The model's Markdown rendered as Telegram HTML (``parse_mode="HTML"``).

Every tag is produced together with its closing tag around already-escaped content, so
the output is balanced whatever the input; Markdown that does not pair up (a lone ``**``,
an unclosed backtick) stays as literal text. Headings become bold lines, list markers
become bullets, blockquotes and fenced code blocks (with their language) are kept.
"""

from __future__ import annotations

import html
import re

_FENCE = re.compile(r"^ {0,3}(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*$")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_QUOTE = re.compile(r"^ {0,3}> ?(.*)$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(.*)$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_INLINE = re.compile(
    r"(?P<code>(?P<ticks>`+)(?P<code_body>.+?)(?P=ticks))"
    r"|(?P<link>\[(?P<link_text>[^\]\n]+)\]\((?P<url>[^)\s]+)\))"
    r"|(?P<bold>\*\*(?=\S)(?P<bold_body>.+?)(?<=\S)\*\*)"
    r"|(?P<bold2>(?<!\w)__(?=\S)(?P<bold2_body>.+?)(?<=\S)__(?!\w))"
    r"|(?P<strike>~~(?=\S)(?P<strike_body>.+?)(?<=\S)~~)"
    r"|(?P<spoiler>\|\|(?=\S)(?P<spoiler_body>.+?)(?<=\S)\|\|)"
    r"|(?P<italic>(?<![\w*])\*(?=[^\s*])(?P<italic_body>.+?)(?<=[^\s*])\*(?![\w*]))"
    r"|(?P<italic2>(?<!\w)_(?=[^\s_])(?P<italic2_body>.+?)(?<=[^\s_])_(?!\w))"
)
_SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")
_TAGS = {
    "bold": "b",
    "bold2": "b",
    "strike": "s",
    "spoiler": "tg-spoiler",
    "italic": "i",
    "italic2": "i",
}


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: emoji outside the BMP count 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def inline(text: str) -> str:
    """Inline Markdown of one line (or paragraph) to HTML."""
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[pos : match.start()]))
        out.append(_render_inline(match))
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def _render_inline(match: re.Match[str]) -> str:
    kind = match.lastgroup or ""
    if match.group("code") is not None:
        return f"<code>{escape(match.group('code_body'))}</code>"
    if match.group("link") is not None:
        url = match.group("url")
        label = inline(match.group("link_text"))
        if not url.lower().startswith(_SAFE_SCHEMES):
            return f"{label} ({escape(url)})"
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'
    for name, tag in _TAGS.items():
        if match.group(name) is not None:
            return f"<{tag}>{inline(match.group(name + '_body'))}</{tag}>"
    return escape(match.group(0)) if kind else ""


def _code_block(lines: list[str], lang: str) -> str:
    body = escape("\n".join(lines))
    if lang:
        return f'<pre><code class="language-{html.escape(lang, quote=True)}">{body}</code></pre>'
    return f"<pre>{body}</pre>"


def markdown_to_html(text: str) -> str:
    """Convert a whole answer; code fences left open at the end are closed."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            marker, body = fence.group(1), []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i])
                i += 1
            out.append(_code_block(body, fence.group(2)))
            i += 1  # the closing fence (or past the end)
            continue
        if _QUOTE.match(line):
            quoted = []
            while i < len(lines) and (quote := _QUOTE.match(lines[i])):
                quoted.append(_line(quote.group(1)))
                i += 1
            out.append("<blockquote>" + "\n".join(quoted) + "</blockquote>")
            continue
        out.append(_line(line))
        i += 1
    return "\n".join(out)


def _line(line: str) -> str:
    if heading := _HEADING.match(line):
        return f"<b>{inline(heading.group(1))}</b>"
    if _RULE.match(line):
        return "──────────"
    if bullet := _BULLET.match(line):
        return f"{bullet.group(1)}• {inline(bullet.group(2))}"
    return inline(line)
