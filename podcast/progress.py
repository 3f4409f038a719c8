"""Progress of a synthesis run, and an estimate of the time left that a listener can trust.

Pieces come back from the clip cache at once and from the engine at its own
pace, so counting lines would promise too much after a run of cache hits. The
estimate is the wall time spent per character the engine actually spoke, times
the characters still to come (a cached piece costs nothing and is not counted).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

_COUNTS = ("cached", "retried", "fallback")


class TimeLeft:
    """Characters done and spoken, and what they say about the rest."""

    def __init__(self, sizes: Sequence[int], now: Callable[[], float] = time.monotonic) -> None:
        self.total_chars = sum(sizes)
        self.lines = len(sizes)
        self.now = now
        self.started = now()
        self.done_chars = self.spoken_chars = self.done = 0
        self.counts = dict.fromkeys(_COUNTS, 0)

    def add(self, event: Any) -> None:
        chars = int(getattr(event, "chars", 0))
        self.done += 1
        self.done_chars += chars
        if not getattr(event, "cached", False):
            self.spoken_chars += chars
        for key in _COUNTS:
            self.counts[key] += int(getattr(event, key, False))

    def seconds_left(self) -> float | None:
        """None until the engine has spoken something to judge it by."""
        if self.done >= self.lines:
            return 0.0
        if self.spoken_chars == 0:
            return None
        rate = (self.now() - self.started) / self.spoken_chars
        return max(0.0, (self.total_chars - self.done_chars) * rate)

    def text(self) -> str:
        left = self.seconds_left()
        if left is None:
            return "estimating time left"
        minutes, seconds = divmod(round(left), 60)
        return f"about {minutes}:{seconds:02d} left"


def progress_bar(sizes: list[int], now: Callable[[], float] = time.monotonic,
                 every: float = 10.0) -> Callable[[Any], None]:
    """A rich bar on a terminal; elsewhere (CI logs, cron mail) a line at each further tenth of
    the work, at most one per ``every`` seconds, so a short run (or its one-line error) stays quiet."""
    from rich.progress import BarColumn, Progress, TextColumn

    state = TimeLeft(sizes, now)
    lock = threading.Lock()
    tty = sys.stderr.isatty()
    bar = Progress(TextColumn("[bold]合成语音"), BarColumn(), TextColumn("{task.fields[lines]}"),
                   TextColumn("cached {task.fields[cached]} · retried {task.fields[retried]} · "
                              "fallback {task.fields[fallback]} · {task.fields[left]}"),
                   transient=False, disable=not tty)
    c = state.counts
    task = bar.add_task("speak", total=max(1, state.total_chars), lines=f"0/{state.lines}", left="",
                        cached=c["cached"], retried=c["retried"], fallback=c["fallback"])
    bar.start()
    shown = {"tenth": 0, "at": state.started, "lines": 0}

    def tick(event: Any) -> None:
        with lock:
            state.add(event)
            lines = f"{state.done}/{state.lines} lines"
            bar.update(task, completed=state.done_chars, lines=lines, left=state.text(), cached=c["cached"],
                       retried=c["retried"], fallback=c["fallback"])
            finished = state.done >= state.lines
            tenth = state.done_chars * 10 // max(1, state.total_chars)
            due = tenth > shown["tenth"] and now() - shown["at"] >= every
            if not tty and (due or (finished and shown["lines"])):
                shown.update(tenth=tenth, at=now(), lines=shown["lines"] + 1)
                print(f"synthesis {lines} ({tenth * 10}%), {state.text()}", file=sys.stderr, flush=True)
            if finished:
                bar.stop()

    return tick
