"""The store and the caches: damaged entries are misses, and what is reported is what was published."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from podcast.audio import measure_file
from podcast.cli import main
from podcast.speech import ClipCache
from podcast.store import cached_artifact

from .conftest import FAST_BUILD, FAST_ENGINE

DATE = "2026-11-20"


def manifest(root: Path) -> dict:
    def refuse(name: str) -> float:
        raise AssertionError(f"{name} in episode.json")

    return json.loads((root / "episodes" / DATE / "episode.json").read_text("utf-8"), parse_constant=refuse)


def test_reported_loudness_and_peak_are_measured_on_the_published_mp3(built: Path) -> None:
    m = manifest(built)
    loudness, peak = measure_file(built / "episodes" / DATE / m["audio"])
    assert m["loudness_lufs"] == pytest.approx(loudness, abs=0.2)
    assert m["true_peak_dbtp"] == pytest.approx(peak, abs=0.2)
    assert peak <= -1.0 + 0.5  # the ceiling holds on the decoded MP3 too (MP3 adds a little overshoot)


def day_clips(root: Path, cache: Path) -> list[Path]:
    """The cached clips of two different lines of the day's script."""
    from podcast.episode.perform import engine, voices
    from podcast.pipeline import Project
    from podcast.writer import load_script

    project = Project.open(root, engine=FAST_ENGINE)
    script = load_script(project.layout.script(dt.date.fromisoformat(DATE)))
    spoken_by = engine(project)
    chosen = voices(project, spoken_by, [h.id for h in script.hosts])
    texts = {}
    for seg in script.segments:
        for line in seg.lines:
            fed = spoken_by.speech_text(line.text)
            if len(fed) > 20:
                texts.setdefault(fed, line.speaker)
    keys = [ClipCache.key(spoken_by, chosen[speaker], fed) for fed, speaker in list(texts.items())[:2]]
    return [cache / "clips" / key[:2] / f"{key}.f32" for key in keys]


def test_a_damaged_clip_cache_and_mp3_cache_are_remade(built_copy: Path, clip_cache: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(clip_cache, cache, symlinks=True)
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(cache))
    clips = day_clips(built_copy, cache)
    # flipped bytes: a few samples become enormous (the episode would be mastered ~20 dB too quiet)
    flipped = bytearray(clips[0].read_bytes())
    for i in range(3, len(flipped), 4000):
        flipped[i] ^= 0x7F
    clips[0].write_bytes(bytes(flipped))
    # NaNs written by a broken engine with a matching hash: the samples themselves are checked
    nan = np.frombuffer(clips[1].read_bytes(), dtype="<f4").copy()
    nan[100:200] = np.nan
    clips[1].write_bytes(nan.tobytes())
    meta = clips[1].with_suffix(".json")
    info = json.loads(meta.read_text("utf-8"))
    import hashlib

    info["sha256"] = hashlib.sha256(nan.tobytes()).hexdigest()
    meta.write_text(json.dumps(info), "utf-8")
    for entry in (cache / "artifacts" / "mp3").iterdir():  # the cached MP3s, damaged in the middle
        data = bytearray(entry.read_bytes())
        data[len(data) // 2 : len(data) // 2 + 5000] = bytes(5000)
        entry.write_bytes(bytes(data))

    before = manifest(built_copy)
    result = CliRunner().invoke(main, ["speak", *FAST_BUILD, DATE, "--out", str(built_copy)])
    assert result.exit_code == 0, result.output
    assert "2 synthesized" in result.output
    after = manifest(built_copy)
    mp3 = built_copy / "episodes" / DATE / after["audio"]
    loudness, _ = measure_file(mp3)
    assert loudness == pytest.approx(-16.0, abs=0.5)
    assert after["loudness_lufs"] == pytest.approx(loudness, abs=0.2)
    assert after["duration"] == pytest.approx(before["duration"], abs=0.05)


def test_clip_cache_entries_are_checked(tmp_path: Path) -> None:
    from podcast.models import Clip

    cache = ClipCache(tmp_path)
    clip = Clip(np.full(2400, 0.1, np.float32), 24000)
    cache.put("ab" * 32, clip)
    assert cache.get("ab" * 32) is not None
    raw = next(tmp_path.rglob("*.f32"))
    data = bytearray(raw.read_bytes())
    data[7] ^= 0x40
    raw.write_bytes(bytes(data))
    assert cache.get("ab" * 32) is None
    old = {"rate": 24000, "samples": 2400, "sentences": []}  # an entry without a hash
    raw.with_suffix(".json").write_text(json.dumps(old), "utf-8")
    assert cache.get("ab" * 32) is None


def test_a_damaged_artifact_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path))
    calls = []

    def make() -> bytes:
        calls.append(1)
        return b"payload" * 100

    assert cached_artifact("thing", [1], make) == b"payload" * 100
    assert cached_artifact("thing", [1], make) == b"payload" * 100 and len(calls) == 1
    entry = next((tmp_path / "artifacts" / "thing").iterdir())
    entry.write_bytes(entry.read_bytes()[:-1] + b"X")
    assert cached_artifact("thing", [1], make) == b"payload" * 100 and len(calls) == 2


def test_nan_never_reaches_json(tmp_path: Path) -> None:
    from podcast.store import write_json

    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"a": float("nan")})
