"""Markdown to Telegram HTML: formatted, escaped, and always balanced."""

from __future__ import annotations

import random

import pytest

from bots.telegram.markdown import markdown_to_html, utf16_len
from tests.fakes.telegram_html import parse_html


def test_inline_styles() -> None:
    html = markdown_to_html("**bold** *it* _it2_ ~~gone~~ `x<y` [site](https://a.b/?q=1&r=2)")
    assert html == (
        "<b>bold</b> <i>it</i> <i>it2</i> <s>gone</s> <code>x&lt;y</code> "
        '<a href="https://a.b/?q=1&amp;r=2">site</a>'
    )


def test_blocks() -> None:
    source = (
        "# Head <1>\n- one\n* two\n> quoted **b**\n> more\n```python\nif a < b & c:\n    pass\n```"
    )
    assert markdown_to_html(source) == (
        "<b>Head &lt;1&gt;</b>\n• one\n• two\n"
        "<blockquote>quoted <b>b</b>\nmore</blockquote>\n"
        '<pre><code class="language-python">if a &lt; b &amp; c:\n    pass</code></pre>'
    )


def test_escaping_everywhere_and_no_markdown_in_code() -> None:
    assert markdown_to_html("a < b > c & d") == "a &lt; b &gt; c &amp; d"
    assert markdown_to_html("`**not bold**`") == "<code>**not bold**</code>"
    assert markdown_to_html("2 * 3 * 4 and snake_case_name") == "2 * 3 * 4 and snake_case_name"


def test_unsafe_link_is_not_a_link() -> None:
    assert "<a" not in markdown_to_html("[x](javascript:alert)")


@pytest.mark.parametrize(
    "broken",
    [
        "**unclosed bold",
        "`unclosed code",
        "```\nopen fence",
        "*a **b* c**",
        "[x](",
        "<b>raw</b>",
        "_a *b_ c*",
    ],
)
def test_broken_markdown_still_parses(broken: str) -> None:
    text, _ = parse_html(markdown_to_html(broken))
    assert text.replace("\n", "")  # accepted by the strict parser, nothing vanished


def test_random_markdown_is_always_balanced() -> None:
    rng = random.Random(7)
    atoms = [
        "**",
        "*",
        "_",
        "__",
        "`",
        "```",
        "~~",
        "||",
        "[a](https://x.y)",
        "<",
        ">",
        "&",
        "# ",
        "> ",
        "- ",
        "\n",
        "word",
        " ",
    ]
    for _ in range(500):
        source = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 40)))
        parse_html(markdown_to_html(source))  # raises on any unbalanced or unknown tag


def test_utf16_len() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("é") == 1
