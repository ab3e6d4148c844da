"""What each open hold of this worker has produced so far, for the lease heartbeat.

A worker killed mid-answer takes its text and the upstream's usage with it; the sweep can
only charge what the database knows. So every open chat hold registers a function that
prices what it has made (the same estimate a cut or stopped stream is charged), and the
lease heartbeat writes the values that changed since its last beat in one statement. The
streaming path never touches the database for it: a chunk only appends to a string, and
the estimate is computed once per beat, not per chunk."""

from __future__ import annotations

from collections.abc import Callable


class HoldProgress:
    def __init__(self) -> None:
        self._open: dict[str, Callable[[], int]] = {}
        self._written: dict[str, int] = {}

    def track(self, request_id: str, estimate: Callable[[], int]) -> None:
        """``estimate`` returns the micro-credits produced so far (0: nothing yet)."""
        self._open[request_id] = estimate

    def done(self, request_id: str) -> None:
        self._open.pop(request_id, None)
        self._written.pop(request_id, None)

    def changed(self) -> dict[str, int]:
        """The open holds whose estimate moved since it was last ``written``."""
        current = {request_id: estimate() for request_id, estimate in self._open.items()}
        return {r: v for r, v in current.items() if self._written.get(r, 0) != v}

    def written(self, values: dict[str, int]) -> None:
        for request_id, value in values.items():
            if request_id in self._open:  # settled meanwhile: nothing left to remember
                self._written[request_id] = value
