"""Markdown to Telegram HTML: formatted, escaped, and always balanced."""

from __future__ import annotations

import random
import re

import pytest

from bots.telegram.markdown import inline, markdown_to_html, utf16_len
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


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**bold *and italic***", "<b>bold <i>and italic</i></b>"),
        ("*italic **bold***", "<i>italic <b>bold</b></i>"),
        ("***both***", "<i><b>both</b></i>"),
        ("~~gone *and slanted*~~", "<s>gone <i>and slanted</i></s>"),
        (
            "||hidden **bold**|| and a || b",
            "<tg-spoiler>hidden <b>bold</b></tg-spoiler> and a || b",
        ),
        ("# **already bold** heading", "<b>already bold heading</b>"),
    ],
)
def test_nested_styles(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("`a * b * c`", "<code>a * b * c</code>"),
        ("`if a<b && c>d`", "<code>if a&lt;b &amp;&amp; c&gt;d</code>"),
        ("``a ` b``", "<code>a ` b</code>"),
        ("\\*not italic\\*", "*not italic*"),
        ("\\<b\\> \\# not a heading", "&lt;b&gt; # not a heading"),
        ("**never closed", "**never closed"),
        ("*never closed either", "*never closed either"),
        ("snake_case_words and __dunder__ms", "snake_case_words and __dunder__ms"),
        ("&copy; &amp; &#60;", "© &amp; &lt;"),
    ],
)
def test_literal_text(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html


def test_fenced_code_keeps_its_language_and_its_text() -> None:
    source = "~~~c++ {.numbered}\nint *p = &x; // **not bold**\n~~~\n\n    indented <code>"
    assert markdown_to_html(source) == (
        '<pre><code class="language-c++">int *p = &amp;x; // **not bold**</code></pre>\n\n'
        "<pre>indented &lt;code&gt;</pre>"
    )
    assert markdown_to_html('```"><b>x\ny\n```') == "<pre>y</pre>"  # not a language


def test_links() -> None:
    assert markdown_to_html("[a & b](https://x.y/?q=1&r=<2>)") == (
        '<a href="https://x.y/?q=1&amp;r=%3C2%3E">a &amp; b</a>'
    )
    assert markdown_to_html("<https://x.y/a?b&c>") == (
        '<a href="https://x.y/a?b&amp;c">https://x.y/a?b&amp;c</a>'
    )
    assert markdown_to_html("[**bold** `code`](tg://user?id=1)") == (
        '<a href="tg://user?id=1"><b>bold</b> code</a>'  # Telegram nests no code in a link
    )
    assert (
        markdown_to_html("[docs](/relative) [ftp](ftp://f.x)") == "docs (/relative) ftp (ftp://f.x)"
    )
    assert (
        markdown_to_html("![a cat](https://i.x/cat.png)")
        == '<a href="https://i.x/cat.png">a cat</a>'
    )


def test_lists_and_headings() -> None:
    source = (
        "## Plan\n\n1. first\n2. second **step**\n   - nested a\n   - nested b\n3) third\n\n"
        "- loose one\n\n- loose two\n\n  second paragraph\n\nSetext\n---\n\n***"
    )
    assert markdown_to_html(source) == (
        "<b>Plan</b>\n\n1. first\n2. second <b>step</b>\n   • nested a\n   • nested b\n3) third\n\n"
        "• loose one\n\n• loose two\n\n  second paragraph\n\n<b>Setext</b>\n\n──────────"
    )


def test_tables_html_and_quotes_degrade_to_text() -> None:
    table = "| name | **n** |\n|:-----|--:|\n| a<b | `1` |\n| | 2 |"
    assert markdown_to_html(table) == (
        "| name | <b>n</b> |\n|:-----|--:|\n| a&lt;b | <code>1</code> |\n| | 2 |"
    )  # as written: a table parser would drop a row's extra cells
    assert markdown_to_html("<div>\n<b>raw</b>\n</div>") == (
        "&lt;div&gt;\n&lt;b&gt;raw&lt;/b&gt;\n&lt;/div&gt;"
    )
    nested = "> outer *quote*\n> > inner\n>\n> ```py\n> code < 1\n> ```"
    assert markdown_to_html(nested) == (
        "<blockquote>outer <i>quote</i>\ninner\n\ncode &lt; 1</blockquote>"
    )


@pytest.mark.parametrize(
    ("source", "word"),
    [
        ("*" * 3000 + "deep" + "*" * 3000, "deep"),
        ("*a " * 2000 + "inner" + "*" * 2000, "inner"),
        ("> " * 500 + "quoted", "quoted"),
        ("- " * 500 + "listed", "listed"),
        ("![" * 500 + "alt" + "](https://x.y)" * 500, "alt"),
        ("||x " * 3000 + "last", "last"),
    ],
)
def test_deep_nesting_and_long_runs_still_render(source: str, word: str) -> None:
    text, _ = parse_html(markdown_to_html(source))  # no RecursionError, nothing unbalanced
    assert word in text  # the parser's nesting limit loses nothing


_ALLOWED = {"b", "i", "s", "tg-spoiler", "code", "pre", "a", "blockquote"}
_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def assert_telegram_nesting(html: str) -> None:
    """What the fake's parser does not check: no tag in code or pre (but pre's code), no
    quote in a quote, no link in a link, no code or block inside a link, no code block in a
    quote, only the tags we mean."""
    stack: list[str] = []
    for match in _TAG.finditer(html):
        closing, tag = match.groups()
        assert tag in _ALLOWED, html
        if closing:
            assert stack.pop() == tag, html
            continue
        inside = stack[-1] if stack else ""
        assert inside != "code" and (inside != "pre" or tag == "code"), html
        assert tag not in stack or tag not in ("a", "blockquote", "pre", "code"), html
        assert tag not in ("pre", "blockquote", "code") or "a" not in stack, html
        assert tag != "pre" or "blockquote" not in stack, html
        stack.append(tag)
    assert not stack, html


_ATOMS = [
    "**", "*", "_", "__", "`", "``", "```\n", "```py\n", "~~", "||", "\\", "\\*", "[", "](", ")",
    "[a](https://x.y?a=1&b)", "![i](https://i.x)", "[`c` **b**](https://x.y)", "<https://x.y>",
    "<b>", "</i>", "<", ">", "&", "&amp;", "# ", "> ", "> > ", "- ", "1. ", "    ",
    "| a | b |\n|--|--|\n", "---\n", "\n", "\n\n", "word", " ", "snake_case", "😀",
]  # fmt: skip


_FENCE_INFO = re.compile(r"^([ >*+\-\d.)]*(?:`{3,}|~{3,}))[^\n]*", re.MULTILINE)


@pytest.mark.parametrize("seed", range(4))
def test_random_markdown_is_always_well_nested_telegram_html(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        source = "".join(rng.choice(_ATOMS) for _ in range(rng.randint(1, 60)))
        html = markdown_to_html(source)
        text, _ = parse_html(html)  # raises on any unbalanced or unknown tag, bad entity
        assert_telegram_nesting(html)
        # No text vanished, but a fence's info string (its language) is not text.
        shown = _FENCE_INFO.sub(r"\1", source)
        for word in ("word", "😀"):
            assert shown.count(word) <= text.count(word) <= source.count(word), source


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


def test_inline_keeps_block_markers_as_text() -> None:
    assert inline("# not a heading **but bold** <x>") == "# not a heading <b>but bold</b> &lt;x&gt;"


def test_utf16_len() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("é") == 1
