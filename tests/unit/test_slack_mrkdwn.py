"""Markdown → Slack mrkdwn, and Slack markup → plain words for the model."""

from __future__ import annotations

import pytest

from bots.slack.mapping import audio_file, chat_id, command_args, event_id, plain_text, split_admin
from bots.slack.mrkdwn import markdown_to_mrkdwn


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
