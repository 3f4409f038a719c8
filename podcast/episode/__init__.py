"""One episode: ``perform`` speaks a script (no files), ``package`` writes its folder.

``perform`` is the only stage that drives the speech package; ``package`` turns
the performance into the staged folder and returns the ``Episode`` it wrote.
"""

from __future__ import annotations

import time


class Clock:
    """Accumulates wall time per named step, for the benchmarks."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now
