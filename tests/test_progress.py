"""The time left a build promises: judged by what the engine spoke, not by cache hits."""

import pytest

from podcast.progress import TimeLeft, progress_bar
from podcast.speech import Progress


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_cache_hits_promise_nothing_and_spoken_lines_set_the_pace() -> None:
    clock = Clock()
    left = TimeLeft([40, 10, 20, 30], now=clock)
    left.add(Progress(cached=True, retried=False, fallback=False, chars=40))
    assert left.seconds_left() is None and left.text() == "estimating time left"
    clock.t += 5.0  # the engine took 5 s for 10 characters
    left.add(Progress(cached=False, retried=False, fallback=False, chars=10))
    assert left.seconds_left() == 25.0  # 50 characters to go at 0.5 s each
    assert left.text() == "about 0:25 left"
    clock.t += 10.0
    left.add(Progress(cached=False, retried=True, fallback=False, chars=20))
    assert left.seconds_left() == 15.0 and left.counts == {"cached": 1, "retried": 1, "fallback": 0}
    left.add(Progress(cached=False, retried=False, fallback=True, chars=30))
    assert left.seconds_left() == 0.0 and left.counts["fallback"] == 1


def test_away_from_a_terminal_a_long_run_prints_a_line_a_tenth_and_a_short_one_stays_quiet(
        capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    tick = progress_bar([10] * 20, now=clock, every=10.0)
    for _ in range(20):
        clock.t += 3.0  # a line every 3 s: a minute in all
        tick(Progress(cached=False, retried=False, fallback=False, chars=10))
    lines = capsys.readouterr().err.strip().splitlines()
    assert 4 <= len(lines) <= 7 and lines[-1] == "synthesis 20/20 lines (100%), about 0:00 left"
    assert lines[0].startswith("synthesis 4/20 lines (20%), about 0:48 left")  # 16 lines to go at 3 s
    quick = progress_bar([10] * 5, now=clock, every=10.0)
    for _ in range(5):
        clock.t += 0.1
        quick(Progress(cached=False, retried=False, fallback=False, chars=10))
    assert capsys.readouterr().err == ""
