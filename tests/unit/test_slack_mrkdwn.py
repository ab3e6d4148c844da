"""Markdown → Slack mrkdwn, and Slack markup → plain words for the model."""

from __future__ import annotations

import random
import re

import pytest

from bots.slack.mapping import audio_file, chat_id, command_args, event_id, plain_text, split_admin
from bots.slack.mrkdwn import markdown_to_mrkdwn

Z = "\u200b"  # the zero-width space that keeps a literal marker from formatting


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold** and *it* and ~~gone~~", "*bold* and _it_ and ~gone~"),
        ("__bold__ text", "*bold* text"),
        ("# Title\nbody", "*Title*\nbody"),
        ("see [the docs](https://x.io/a?b=1&c=2)", "see <https://x.io/a?b=1&amp;c=2|the docs>"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("> quoted **text**", "> quoted *text*"),
        ("- one\n* two\n+ three", "• one\n• two\n• three"),
        ("`**not bold** <x>`", "`**not bold** &lt;x&gt;`"),
        ("```python\nif a < b:\n    **x**\n```\nafter", "```\nif a &lt; b:\n    **x**\n```\nafter"),
        ("2 * 3 * 4", "2 * 3 * 4"),
    ],
)
def test_markdown_to_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert markdown_to_mrkdwn(markdown) == mrkdwn


def test_unclosed_fence_keeps_everything() -> None:
    assert markdown_to_mrkdwn("text\n```\ncode <1>") == "text\n```\ncode &lt;1&gt;\n```"


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold *and italic***", "*bold _and italic_*"),
        ("*italic **bold***", "_italic *bold*_"),
        ("***both***", "_*both*_"),
        ("~~gone **and bold**~~", "~gone *and bold*~"),
        ("# **Title** with *it*", "*Title with _it_*"),
        ("`a * b` and `x < y & z`", "`a * b` and `x &lt; y &amp; z`"),
        ("``a ` b`` stays text", "a ` b stays text"),  # a backtick cannot sit in a span
        ("\\*not italic\\*", f"{Z}*{Z}not italic{Z}*{Z}"),
        ("**never closed", f"{Z}*{Z}{Z}*{Z}never closed"),
        ("snake_case_words and a_b", "snake_case_words and a_b"),
        ("5 * 3 = 15 ~ 14", "5 * 3 = 15 ~ 14"),
        ("||hidden|| stays", "||hidden|| stays"),
    ],
)
def test_styles_nest_and_literal_markers_stay_literal(markdown: str, mrkdwn: str) -> None:
    assert markdown_to_mrkdwn(markdown) == mrkdwn


def test_links_lists_quotes_and_blocks() -> None:
    assert markdown_to_mrkdwn("[**a** & `b`](https://x.y/?q=1&r=2)") == (
        "<https://x.y/?q=1&amp;r=2|a &amp; b>"  # Slack shows a label as written
    )
    assert markdown_to_mrkdwn("<https://x.y/?a&b> and [rel](/x)") == (
        "<https://x.y/?a&amp;b> and rel (/x)"
    )
    assert markdown_to_mrkdwn("![chart](https://i.x/c.png)") == "<https://i.x/c.png|chart>"
    source = "1. one\n2. two\n   - deep *it*\n\n---\n\n> a\n> > b\n>\n> ```\n> c\n> ```"
    assert markdown_to_mrkdwn(source) == (
        "1. one\n2. two\n   • deep _it_\n\n──────────\n\n> a\n> b\n> \n> ```\n> c\n> ```"
    )
    assert markdown_to_mrkdwn("- item\n\n  > quoted in it") == (
        "• item\n\n  &gt; quoted in it"  # Slack quotes only at a line's start
    )
    assert markdown_to_mrkdwn("````\n```\n````") == f"```\n``{Z}`\n```"
    assert markdown_to_mrkdwn("<div>x</div>\n\n| a | **b** |\n|---|---|") == (
        "&lt;div&gt;x&lt;/div&gt;\n\n| a | *b* |\n|---|---|"
    )


_LINK = re.compile(r"<(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>]*)?>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_ATOMS = [
    "**", "*", "_", "__", "`", "```\n", "~~", "||", "\\*", "[a](https://x.y?a=1&b)", "[", "](",
    ")", "![i](https://i.x)", "<https://x.y>", "<b>", "<", ">", "&", "&amp;", "# ", "> ", "- ",
    "1. ", "    ", "---\n", "\n", "\n\n", "word", " ", "snake_case",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_random_markdown_is_always_valid_mrkdwn(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        source = "".join(rng.choice(_ATOMS) for _ in range(rng.randint(1, 50)))
        mrkdwn = markdown_to_mrkdwn(source)
        bare = _ENTITY.sub("", _LINK.sub("", mrkdwn))
        unquoted = ("\n" + bare).replace("\n> ", "\n")  # a line's quote marker stays ">"
        assert "<" not in bare and ">" not in unquoted, (source, mrkdwn)
        assert "&" not in bare and mrkdwn.count("```") % 2 == 0, (source, mrkdwn)
        assert mrkdwn.count("word") == source.count("word"), (source, mrkdwn)


def test_plain_text_for_the_model() -> None:
    text = "<@UBOT> hi <@U2|bob>, see <https://a.b|site> in <#C1|general> &amp; <!here>"
    assert plain_text(text, "UBOT") == "hi @U2, see site in #general & @here"


def test_ids_and_commands() -> None:
    assert chat_id("T1", "C1", "1.2") == "T1:C1:1.2"
    assert chat_id("T1", "D1", "1.2") == "T1:D1"  # one context per DM
    assert event_id("Ev1") == "slack:Ev1" and event_id("Ev1", "stt") == "slack:Ev1:stt"
    assert event_id(None) is None
    assert command_args("<@U123|alice> 5") == "U123 5"
    assert split_admin("GRANT <@U1|a> 10 for help") == ("grant", "U1 10 for help")
    files = [{"mimetype": "image/png"}, {"mimetype": "audio/webm", "id": "F2"}]
    assert audio_file(files) == files[1] and audio_file(files[:1]) is None
