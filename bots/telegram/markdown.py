"""The model's Markdown rendered as Telegram HTML (``parse_mode="HTML"``).

``bots.markdown`` parses the text (CommonMark) and lays out the blocks; this module says
what Telegram's HTML looks like. Only the tags Telegram accepts are produced (b, i, s,
tg-spoiler, code, pre with ``<code class="language-x">``, a href, blockquote), each
together with its closing tag around escaped content, so the output is well nested
whatever the input; everything else is text with ``&``, ``<`` and ``>`` escaped. Entities
Telegram does not let contain each other are not nested: no code inside a link, no code
block or second quote inside a quote. Markdown that does not pair up (a lone ``**``, an
unclosed backtick) stays as literal text.
"""

from __future__ import annotations

import html

from bots.markdown import Renderer

_TAGS = {"em": "i", "strong": "b", "s": "s", "spoiler": "tg-spoiler"}


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: emoji outside the BMP count 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


class TelegramHtml(Renderer):
    safe_schemes = ("http://", "https://", "tg://", "mailto:")

    def text(self, text: str) -> str:
        return escape(text)

    def code(self, text: str) -> str:
        return f"<code>{escape(text)}</code>"

    def style(self, kind: str, inner: str) -> str:
        tag = _TAGS[kind]
        return f"<{tag}>{inner}</{tag}>"

    def link(self, url: str, label: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'

    def code_block(self, body: str, language: str) -> str:
        if self.quote_depth:
            return escape(body)
        if language:
            return f'<pre><code class="language-{language}">{escape(body)}</code></pre>'
        return f"<pre>{escape(body)}</pre>"

    def quote(self, body: str) -> str:
        return body if self.quote_depth else f"<blockquote>{body}</blockquote>"


def inline(text: str) -> str:
    """Inline Markdown of one line (or paragraph) to HTML."""
    return TelegramHtml().render_inline(text)


def markdown_to_html(text: str) -> str:
    """Convert a whole answer; code fences left open at the end are closed."""
    return TelegramHtml().render(text)
