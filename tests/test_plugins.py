"""An engine and a writer registered through the public registries build real episodes.

The fake engine stands in for a third party's plug-in: if it can build, feed and
publish an episode by name (``--engine fake``), so can any engine registered the
same way. Its audio is synthetic, so these tests also pin what the pipeline does
with an engine's output (pitch measurement, failures, checks) without a neural voice.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import numpy as np
import podcastparser
import pytest
import yaml
from click.testing import CliRunner

from podcast.audio import measure_file
from podcast.cli import SAMPLE, main
from podcast.config import AudioSettings
from podcast.episode.breath import breath_pieces
from podcast.feed import PODCAST_NS
from podcast.speech import check_clip, get_engine

from .conftest import DATA, decoded_duration, private_cache
from .fakes import FakeSpeech, fake_voice_preset

DATE = "2026-11-20"


def build(root: Path, *args: str, source: Path = SAMPLE):
    return CliRunner().invoke(main, ["build", str(source), "--out", str(root), *args])


def manifest_of(root: Path, date: str = DATE) -> dict:
    return json.loads((root / "episodes" / date / "episode.json").read_text("utf-8"))


def lines_of(root: Path, date: str = DATE) -> list[dict]:
    script = yaml.safe_load((root / "scripts" / f"{date}.yaml").read_text("utf-8"))
    return [line for seg in script["segments"] for line in seg["lines"]]


def test_a_registered_engine_builds_an_episode_end_to_end(
        tmp_path: Path, fake_speech: FakeSpeech, clip_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an empty clip cache: a line another test already spoke with the fake must not be a hit here
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(private_cache(tmp_path, clip_cache)))
    root = tmp_path / "root"
    fake_voice_preset(root)
    result = build(root, "--engine", "fake")
    assert result.exit_code == 0, result.output
    manifest = manifest_of(root)
    lines = lines_of(root)
    assert manifest["engine"] == "fake" and manifest["speech"]["engines"] == {"fake": len(lines)}
    # every line went through the plug-in, once: a long line as its breathing pieces, each once
    engine = get_engine("fake")
    pieces = [engine.speech_text(p) for ln in lines
              for p in breath_pieces(ln["text"], engine.pace, AudioSettings().breath_seconds,
                                     engine.speech_text)]
    assert len(pieces) > len(lines)  # the sample has long lines: the pieces are what is counted
    assert sorted(text for text, _ in fake_speech.spoken) == sorted(pieces)
    assert {pitch for _, pitch in fake_speech.spoken} == {220.0, 140.0}  # each host's own voice settings
    f0 = {h["id"]: h["median_f0_hz"] for h in manifest["hosts"]}
    assert f0["A"] == pytest.approx(220, rel=0.1) and f0["B"] == pytest.approx(140, rel=0.1)

    podcastparser.Namespace.NAMESPACES.setdefault(PODCAST_NS, "podcast")
    with (root / "feed" / "feed.xml").open("rb") as fh:
        feed = podcastparser.parse("http://127.0.0.1:8000/feed/feed.xml", fh)
    (item,) = feed["episodes"]
    (enclosure,) = item["enclosures"]
    mp3 = root / "episodes" / DATE / manifest["audio"]
    assert enclosure["file_size"] == mp3.stat().st_size and enclosure["mime_type"] == "audio/mpeg"
    assert item["guid"] == manifest["guid"]
    assert abs(item["total_time"] - decoded_duration(mp3)) <= 1.0
    assert [c["title"] for c in item["chapters"]] == [c["title"] for c in manifest["chapters"]]

    again = CliRunner().invoke(main, ["speak", DATE, "--engine", "fake", "--out", str(root)])
    assert again.exit_code == 0 and "0 synthesized" in again.output  # the clip cache knows the plug-in
    assert len(fake_speech.spoken) == len(pieces)  # nothing reached the plug-in again


def test_a_registered_writer_and_engine_build_together(tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = build(root, "--engine", "fake", "--writer", "fake", source=DATA / "2026-03-02_daily_paper.md")
    assert result.exit_code == 0, result.output
    manifest = manifest_of(root, "2026-03-02")
    assert manifest["writer"] == "fake" and manifest["engine"] == "fake"
    titles = [c["title"] for c in manifest["chapters"]]
    assert len(titles) == 5 and titles[0] == "开场" and titles[-1] == "结束语"  # 3 papers between


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty clip cache, so every line really reaches the engine."""
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_line_the_engine_refuses_fails_the_build_and_publishes_nothing(
        tmp_path: Path, fake_speech: FakeSpeech, fresh_cache: Path) -> None:
    fake_speech.fail_texts = {"欢迎"}
    root = tmp_path / "root"
    result = build(root, "--engine", "fake", "--writer", "fake")
    assert result.exit_code == 1, result.output
    assert "fake: refused" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (root / "episodes" / DATE).exists() and not (root / "feed").exists()
    assert not list((root / "episodes").glob(".staging-*"))


def test_silent_clips_are_retried_once_then_refused(tmp_path: Path, fake_speech: FakeSpeech,
                                                   fresh_cache: Path) -> None:
    fake_speech.silent_texts = {"明天见"}
    root = tmp_path / "root"
    result = build(root, "--engine", "fake", "--writer", "fake")
    assert result.exit_code == 1 and "fake: silent" in result.output, result.output
    assert [text for text, _ in fake_speech.spoken].count("明天见！") == 2
    assert not (root / "episodes" / DATE).exists()


def test_fake_audio_passes_the_clip_checks_and_follows_the_text() -> None:
    engine = get_engine("fake")
    short, long = "今天就到这里。", "这篇论文研究长文档检索。作者把文档折叠成索引，检索调用次数明显减少。"
    clips = [engine.synthesize(engine.speech_text(t), {"pitch_hz": 200}) for t in (short, long)]
    for text, clip in zip((short, long), clips, strict=True):
        assert check_clip(clip, text, engine.pace) is None
        assert clip.duration == pytest.approx(engine.pace.seconds(text), rel=0.35)
        assert [s.text for s in clip.sentences] and clip.sentences[-1].end <= clip.duration + 0.01
    assert clips[1].duration > 2 * clips[0].duration and len(clips[1].sentences) == 2
    again = engine.synthesize(engine.speech_text(short), {"pitch_hz": 200})
    assert np.array_equal(clips[0].samples, again.samples)  # deterministic
    lower = engine.synthesize(engine.speech_text(short), {"pitch_hz": 120})
    assert len(lower.samples) == len(again.samples) and not np.array_equal(lower.samples, again.samples)


def test_the_plugins_voice_model_checks_the_preset_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "root"
    fake_voice_preset(root)
    preset = root / "voices" / "default.toml"
    preset.write_text(preset.read_text("utf-8").replace("pitch_hz = 140.0", 'pitch_hz = "low"'), "utf-8")
    result = build(root, "--engine", "fake")
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert "default.toml: engines.fake.B: pitch_hz" in line
    assert sorted(p.name for p in root.iterdir()) == ["voices"]  # nothing written


def test_a_rebuild_plays_the_kept_take_and_a_new_setting_records_a_new_one(
        tmp_path: Path, fake_speech: FakeSpeech, clip_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from podcast.pipeline import Project
    from podcast.pipeline import build as build_day

    SMALL = DATA / "2026-03-02_daily_paper.md"

    monkeypatch.setenv("PODCAST_CACHE_DIR", str(private_cache(tmp_path, clip_cache)))
    roots = [tmp_path / "one", tmp_path / "two"]
    results = []
    for root in roots:
        fake_voice_preset(root)
        results.append(build_day(Project.open(root, engine="fake", writer="fake"), SMALL))
    assert "assemble" in results[0].speak.timings and "take" not in results[0].speak.timings
    assert "take" in results[1].speak.timings and "assemble" not in results[1].speak.timings
    day = "2026-03-02"
    mp3s = [root / "episodes" / day / manifest_of(root, day)["audio"] for root in roots]
    assert mp3s[0].read_bytes() == mp3s[1].read_bytes()  # the same programme, tags and all
    assert manifest_of(roots[0], day) == manifest_of(roots[1], day)  # figures, chapters, lines and times too
    for name in ("transcript.vtt", "chapters.json"):
        assert (mp3s[0].parent / name).read_text("utf-8") == (mp3s[1].parent / name).read_text("utf-8")

    (roots[1] / "podcast.toml").write_text("[audio]\nloudness = -19.0\n", "utf-8")
    again = build_day(Project.open(roots[1], engine="fake", writer="fake"), SMALL)
    assert "take" not in again.speak.timings
    loudness, _ = measure_file(mp3s[1])
    assert abs(loudness + 19.0) <= 0.5
    assert manifest_of(roots[1], day)["loudness_lufs"] == pytest.approx(loudness, abs=0.2)


def test_music_opens_and_closes_the_show_and_ducks_under_the_hosts(
        tmp_path: Path, fake_speech: FakeSpeech, clip_cache: Path) -> None:
    from podcast.audio import ffmpeg_exe
    from podcast.music import INTRO

    root = tmp_path / "root"
    fake_voice_preset(root)
    (root / "podcast.toml").write_text("[audio]\nmusic = true\n", "utf-8")
    result = build(root, "--engine", "fake", "--writer", "fake", source=DATA / "2026-03-02_daily_paper.md")
    assert result.exit_code == 0, result.output
    manifest = manifest_of(root, "2026-03-02")
    assert manifest["mastering"]["music"] is True
    mp3 = root / "episodes" / "2026-03-02" / manifest["audio"]
    pcm = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "f32le", "-ac", "1",
                          "-ar", "24000", "-"], capture_output=True, check=True).stdout
    x, rate = np.frombuffer(pcm, np.float32), 24000

    def db(a: float, b: float) -> float:
        part = x[int(a * rate) : int(b * rate)].astype(np.float64)
        return float(10 * np.log10(np.mean(part**2) + 1e-20))

    lines = [(ln["start"], ln["end"]) for ln in manifest["speech"]["lines"]]
    assert lines[0][0] >= INTRO - 0.01  # the sting has the first seconds to itself
    speech = db(lines[0][0], lines[0][1])
    assert speech - 14 < db(0.0, 1.5) < speech  # a sting a listener hears, under the voices
    assert speech - 14 < db(len(x) / rate - 2.5, len(x) / rate - 1.5) < speech  # and one at the end
    opening_end = manifest["chapters"][1]["start"]
    gaps = [(b + 0.05, c - 0.05) for (_, b), (c, _) in itertools.pairwise(lines) if c - b > 0.25]
    early = [db(a, b) for a, b in gaps if b < opening_end]
    late = [db(a, b) for a, b in gaps if a > opening_end + 4]
    assert early and all(speech - 35 < g < speech - 15 for g in early)  # a bed, well under the hosts
    assert late and all(g < speech - 60 for g in late)  # gone after the opening
