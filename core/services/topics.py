"""The popular topics of a period: the subjects people ask about most, found in their
stored questions by YAKE (``yake``), an unsupervised keyword/phrase extractor that needs
no model, corpus or download (its stop-word lists ship with it, English and Russian
among them) and works the same on SQLite and Postgres — unlike the databases' own
full-text tools, which differ between the two.

Extraction takes a second or more on thousands of questions, so it never runs on the
event loop: it runs in a worker thread, at most once per period and ``ttl_s``, and the
result is cached in the process (one extraction at a time; concurrent asks share it).

Ranking: YAKE proposes phrases (English and Russian stop words together, since people mix
the two); each phrase is then counted by how many questions mention it, and the most asked
come first — a topic is popular because many people ask about it, not because it is
rare."""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import yake

WORD = re.compile(r"\w+")
COMMANDS = re.compile(r"^/\w+\s*")  # "/ask …", "/image …": the command is not the topic


@dataclass(frozen=True, slots=True)
class Topic:
    phrase: str
    questions: int  # how many of the sampled questions mention it


@dataclass(frozen=True, slots=True)
class TopicReport:
    topics: list[Topic]
    questions: int  # how many questions were read
    computed_at: datetime


# Words nearly every question to a chat bot has, beside the languages' stop words.
ASKING_WORDS = frozenset(
    "explain tell please help give write make need want best tips way ways can could would"
    " should thanks hello hi объясни расскажи подскажи пожалуйста помоги напиши дай нужно"
    " можно спасибо привет".split()
)


@functools.cache
def _stopwords() -> frozenset[str]:
    """English and Russian together: people mix them, even within one question."""
    words: set[str] = set(ASKING_WORDS)
    for language in ("en", "ru"):
        words |= yake.KeywordExtractor(lan=language).stopword_set
    return frozenset(w for w in words if w)


def _candidates(texts: list[str], wanted: int) -> list[str]:
    if not texts:
        return []
    extractor = yake.KeywordExtractor(
        n=3, dedup_lim=0.8, top=wanted * 4, stopwords=set(_stopwords())
    )
    # One question per line, each a sentence of its own for YAKE's co-occurrence window.
    document = "\n".join(t.rstrip(" .?!") + "." for t in texts)
    return [str(phrase).lower() for phrase, _score in extractor.extract_keywords(document)]


def _words(text: str) -> str:
    return " " + " ".join(WORD.findall(text.lower())) + " "


def extract_topics(questions: list[str], wanted: int = 12) -> list[Topic]:
    """The ``wanted`` most asked-about phrases among ``questions`` (blocking: call it in
    a thread)."""
    texts = [COMMANDS.sub("", q).strip() for q in questions]
    texts = [t for t in texts if t]
    phrases = _candidates(texts, wanted)
    normalized = [_words(t) for t in texts]
    counted = []
    for order, phrase in enumerate(dict.fromkeys(phrases)):
        needle = _words(phrase)
        if needle.strip():
            mentions = sum(1 for text in normalized if needle in text)
            counted.append((mentions, len(needle.split()), -order, phrase))
    # Most asked first; on a tie the longer phrase ("sourdough bread" before "bread").
    counted.sort(reverse=True)
    kept: list[Topic] = []
    for mentions, _, _, phrase in counted:
        # A word asked about only inside a kept phrase says nothing new.
        subsumed = any(_words(phrase) in _words(t.phrase) and t.questions >= mentions for t in kept)
        if mentions > 0 and not subsumed:
            kept.append(Topic(phrase, mentions))
    return kept[:wanted]


@dataclass
class PopularTopics:
    ttl_s: float = 600.0
    wanted: int = 12
    _cache: dict[str, tuple[float, TopicReport]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def report(
        self, period: str, questions: Callable[[], Awaitable[list[str]]]
    ) -> TopicReport:
        async with self._lock:
            cached = self._cache.get(period)
            if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
                return cached[1]
            asked = await questions()
            topics = await asyncio.to_thread(extract_topics, asked, self.wanted)
            report = TopicReport(topics, len(asked), datetime.now(UTC))
            self._cache = {period: (time.monotonic(), report)}  # older periods are stale
            return report
