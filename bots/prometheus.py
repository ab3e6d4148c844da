"""A minimal Prometheus registry in the text exposition format (version 0.0.4): counters,
gauges and histograms with labels. Written by hand: this is all Switchboard needs, and it
keeps prometheus-client out of the dependencies. Used from the event loop's thread only."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

Labels = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[Labels, float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = tuple(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(tuple(labels), 0.0)

    def samples(self) -> list[str]:
        return [
            f"{self.name}{_labels(self.label_names, k)} {_number(v)}"
            for k, v in sorted(self._values.items())
        ]


class Gauge(Counter):
    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        read: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, help_text, labels)
        self.read = read  # an unlabelled gauge read at scrape time

    def add(self, *labels: str, amount: float) -> None:
        key = tuple(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def set(self, *labels: str, value: float) -> None:
        self._values[tuple(labels)] = value

    def samples(self) -> list[str]:
        if self.read is not None:
            self._values[()] = self.read()
        return super().samples()


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = (*sorted(buckets), math.inf)
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}

    def observe(self, *labels: str, value: float) -> None:
        key = tuple(labels)
        counts = self._counts.setdefault(key, [0] * len(self.buckets))
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                counts[index] += 1
        self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, *labels: str) -> int:
        counts = self._counts.get(tuple(labels))
        return counts[-1] if counts else 0

    def samples(self) -> list[str]:
        lines: list[str] = []
        for key, counts in sorted(self._counts.items()):
            names = (*self.label_names, "le")
            for bound, count in zip(self.buckets, counts, strict=True):
                lines.append(f"{self.name}_bucket{_labels(names, (*key, _number(bound)))} {count}")
            labels = _labels(self.label_names, key)
            lines.append(f"{self.name}_sum{labels} {_number(self._sums[key])}")
            lines.append(f"{self.name}_count{labels} {counts[-1]}")
        return lines


M = TypeVar("M", bound=_Metric)


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def add(self, metric: M) -> M:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is registered already")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.header()
            lines += metric.samples()
        return "\n".join(lines) + "\n"
