"""Popular topics: YAKE's phrases ranked by how many questions mention them, both
languages, commands left out; computed once per period and TTL, in a worker thread."""

from __future__ import annotations

import threading

import pytest

from core.services import topics as topics_module
from core.services.topics import PopularTopics, Topic, extract_topics

QUESTIONS = [
    "How do I bake sourdough bread at home?",
    "Why did my sourdough bread not rise?",
    "Best flour for sourdough bread?",
    "Translate 'good morning' into French",
    "Как приготовить борщ?",
    "Как приготовить борщ без мяса?",
    "/image a red cat on a roof",
]


def test_the_most_asked_phrase_comes_first_and_its_words_are_not_repeated() -> None:
    topics = extract_topics(QUESTIONS)
    assert topics[0] == Topic("sourdough bread", 3)
    phrases = [t.phrase for t in topics]
    assert "sourdough" not in phrases and "bread" not in phrases  # said by the phrase
    assert "приготовить борщ" in phrases  # Russian questions, Russian stop words
    assert Topic("приготовить борщ", 2) in topics
    assert not any("image" in p for p in phrases)  # the command is not a topic
    assert all(t.questions >= 1 for t in topics)
    assert [t.questions for t in topics] == sorted((t.questions for t in topics), reverse=True)


def test_nothing_asked_no_topics() -> None:
    assert extract_topics([]) == []
    assert extract_topics(["/balance", "   "]) == []


async def test_cached_per_period_and_extracted_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topics = PopularTopics(ttl_s=3600)
    loads: list[str] = []
    loop_thread = threading.get_ident()
    seen_threads: list[int] = []

    async def questions() -> list[str]:
        loads.append("load")
        return QUESTIONS

    def spy(asked: list[str], wanted: int = 12) -> list[Topic]:
        seen_threads.append(threading.get_ident())
        return extract_topics(asked, wanted)

    monkeypatch.setattr(topics_module, "extract_topics", spy)
    first = await topics.report("2026-11-05", questions)
    second = await topics.report("2026-11-05", questions)
    third = await topics.report("2026-11-06", questions)
    assert first is second and len(loads) == 2 and third is not first
    assert first.questions == len(QUESTIONS) and first.topics[0].phrase == "sourdough bread"
    assert seen_threads and loop_thread not in seen_threads
