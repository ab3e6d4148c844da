"""The file-kind table every adapter shares."""

from __future__ import annotations

import pytest

from bots.files import extension_for, looks_like_audio


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("voice.ogg", "audio/ogg", True),
        ("clip.bin", "audio/mpeg; charset=binary", True),
        ("movie.mp4", "video/mp4", False),  # the type decides when there is one
        ("notes.mp3", "text/plain", False),
        ("memo.M4A", None, True),  # no type: the suffix decides
        ("memo.m4a", "", True),
        ("photo.png", None, False),
    ],
)
def test_audio_is_judged_by_type_then_name(name: str, mime: str | None, expected: bool) -> None:
    assert looks_like_audio(name, mime) is expected


def test_extensions() -> None:
    assert extension_for("image/png") == "png"
    assert extension_for("audio/ogg") == "ogg"
    assert extension_for("application/x-unknown") == "bin"
