"""split_text: nothing lost, limits held, code blocks kept whole when they can be."""

from __future__ import annotations

import random
import re

import pytest

from bots.streaming.split import cut_first, split_text
from bots.telegram.markdown import utf16_len


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def without_fences(text: str) -> str:
    return squash(re.sub(r"^```\w*$", "", text, flags=re.MULTILINE))


def fences_balanced(piece: str) -> bool:
    return len(re.findall(r"^```", piece, flags=re.MULTILINE)) % 2 == 0


@pytest.mark.parametrize("seed", range(8))
def test_random_prose_nothing_lost_and_limits_held(seed: int) -> None:
    rng = random.Random(seed)
    words = ["alpha", "beta.", "gamma,", "delta!", "line\n", "para\n\n", "x" * 30, "why?"]
    text = " ".join(rng.choice(words) for _ in range(rng.randint(200, 3000)))
    limit = rng.choice([64, 200, 1000, 4096])
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert all(p.strip() for p in pieces)
    assert squash("".join(pieces)) == squash(text)


def test_short_text_is_one_piece() -> None:
    assert split_text("Hello there.", 4096) == ["Hello there."]
    assert split_text("   ", 4096) == []


def test_prefers_paragraph_then_line_then_sentence() -> None:
    para = "First paragraph sentence one. Sentence two.\n\nSecond paragraph here."
    assert split_text(para, 50)[0] == "First paragraph sentence one. Sentence two."
    lines = "line one is here\nline two is here\nline three is here"
    assert split_text(lines, 40) == ["line one is here\nline two is here", "line three is here"]
    sentences = "One sentence is here. Another one follows! And a third one ends it."
    assert split_text(sentences, 45)[0] == "One sentence is here. Another one follows!"


def test_unbreakable_word_is_cut_hard_but_kept() -> None:
    text = "a" * 250
    pieces = split_text(text, 100)
    assert [len(p) for p in pieces] == [100, 100, 50]


def test_nine_thousand_chars_with_code_block_make_three_messages() -> None:
    paragraph = "Word " * 99 + "end."
    code = "```python\n" + "\n".join(f"value_{i} = {i} * 2" for i in range(100)) + "\n```"
    text = "\n\n".join([paragraph] * 5 + [code] + [paragraph] * 9)
    assert 8500 < len(text) < 9500
    pieces = split_text(text, 4096)
    assert len(pieces) == 3
    assert all(len(p) <= 4096 and fences_balanced(p) for p in pieces)
    assert sum(code in p for p in pieces) == 1  # the block is whole in one message
    assert squash("".join(pieces)) == squash(text)


def test_code_block_longer_than_limit_is_closed_and_reopened() -> None:
    code = "```js\n" + "\n".join(f"  let v{i} = {i};" for i in range(400)) + "\n```"
    text = "Intro.\n\n" + code + "\n\nOutro."
    pieces = split_text(text, 1000)
    assert all(len(p) <= 1000 and fences_balanced(p) for p in pieces)
    inner = [p for p in pieces if "let v" in p]
    assert len(inner) > 3
    assert all(p.lstrip().startswith("```js") for p in inner[1:])  # reopened with the language
    assert "  let v7 = 7;" in "".join(pieces)  # indentation kept
    assert without_fences("\n".join(pieces)) == without_fences(text)


def test_unclosed_code_block_while_streaming() -> None:
    text = "Here:\n\n```py\n" + "\n".join(f"x = {i}" for i in range(200))
    cut = cut_first(text, 300)
    assert cut.head == "Here:" and text[cut.rest_start :].startswith("```py")


def test_utf16_length_is_respected() -> None:
    text = "😀 " * 3000  # each emoji is two UTF-16 units
    pieces = split_text(text, 4096, utf16_len)
    assert all(utf16_len(p) <= 4096 for p in pieces)
    assert max(len(p) for p in pieces) < 4096 / 1.4
    assert squash("".join(pieces)) == squash(text)
