"""A finished take of a script, kept in the artifact cache: its figures and its MP3.

Rebuilding a day whose script, voices, engine and audio settings have not changed
gives the same audio, so the second build reads the take back instead of
speaking, levelling, assembling, mastering, hearing and measuring again (about
two seconds instead of minutes). The key holds every input of the sound: each
line's clip-cache key (engine, engine revision, voice settings, speech text,
so the lexicon too), the script, the audio and listen-back settings, and a
fingerprint of the package's code and data and of the libraries that shape
audio. A take is kept unless another engine had to speak a line, so a day that
fell back while its engine was down is spoken again when the engine is back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import audio as audio_mod
from ..models import ChapterMark, Cue, ListenSummary, MasteringFigures, SpeechSummary
from ..store import cached_artifact, code_fingerprint, lookup_artifact

if TYPE_CHECKING:
    from ..speech import SpeechStats

KIND = "take"
FORMAT = 1


def take_key(lines: list[str], settings: dict[str, Any]) -> list[Any]:
    """The key of a take: every line's clip key, in order, and every setting that shapes the sound."""
    return [FORMAT, code_fingerprint(), lines, settings]


def pcm_key(mastered: audio_mod.Mastered) -> str:
    """sha256 of the mastered programme: the MP3 artifact is keyed by it."""
    return hashlib.sha256(np.ascontiguousarray(mastered.samples, dtype="<f4").data.cast("B")).hexdigest()


def mp3_key(pcm: str, rate: int, bitrate: int, out_rate: int) -> list[Any]:
    return [pcm, rate, bitrate, out_rate]


def store(key: list[Any], record: dict[str, Any]) -> None:
    """Keep a take's record (the figures and the PCM key of its MP3)."""
    data = json.dumps(record, ensure_ascii=False, allow_nan=False).encode()
    cached_artifact(KIND, key, lambda: data)


def load(key: list[Any]) -> dict[str, Any] | None:
    """A kept take's record, or None (never kept, damaged, or from another format)."""
    raw = lookup_artifact(KIND, key)
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get("format") == FORMAT else None


def record_of(timeline: audio_mod.Timeline, mastered: audio_mod.Mastered, pcm: str, host_f0: dict[str, float],
              stats: SpeechStats, speech: SpeechSummary, figures: MasteringFigures | None,
              listening: ListenSummary | None) -> dict[str, Any]:
    """What a rebuild needs from a performance, without its samples."""
    return {
        "format": FORMAT, "pcm": pcm,
        "timeline": {"sample_rate": timeline.sample_rate,
                     "chapters": [asdict(c) for c in timeline.chapters],
                     "cues": [asdict(c) for c in timeline.cues],
                     "line_spans": [list(s) for s in timeline.line_spans],
                     "gaps": [list(g) for g in timeline.gaps]},
        "mastered": {"sample_rate": mastered.sample_rate, "loudness": mastered.loudness,
                     "true_peak": mastered.true_peak, "gain_db": mastered.gain_db},
        "host_f0": host_f0,
        "stats": asdict(stats),
        "speech": speech.model_dump(mode="json"),
        "figures": figures.model_dump(mode="json") if figures else None,
        "listening": listening.model_dump(mode="json") if listening else None,
    }


def timeline_of(record: dict[str, Any]) -> audio_mod.Timeline:
    """The timeline of a kept take: chapters, cues and spans; no samples (the MP3 has them)."""
    t = record["timeline"]
    return audio_mod.Timeline(
        samples=np.zeros(0, np.float32), sample_rate=int(t["sample_rate"]),
        chapters=tuple(ChapterMark(**c) for c in t["chapters"]),
        cues=tuple(Cue(**c) for c in t["cues"]),
        line_spans=tuple((str(s), float(a), float(b)) for s, a, b in t["line_spans"]),
        gaps=tuple((str(k), float(g)) for k, g in t["gaps"]))


def mastered_of(record: dict[str, Any]) -> audio_mod.Mastered:
    m = record["mastered"]
    return audio_mod.Mastered(np.zeros(0, np.float32), int(m["sample_rate"]), float(m["loudness"]),
                              float(m["true_peak"]), float(m["gain_db"]))
