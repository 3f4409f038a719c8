"""The time left a build promises: judged by what the engine spoke, not by cache hits."""

from podcast.progress import TimeLeft
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
