"""Speech engines behind one small interface, a registry keyed by name, and a clip cache.

An engine turns one line of display text into a ``Clip``. Engines declare what
they can do (network, word timings) as attributes so callers never branch on a
name. ``synthesize_lines`` runs an engine over a script through the cache: a
clip is keyed by engine, engine revision, voice settings and the normalised
text, so a re-run, or a run after a one-line edit, only synthesizes what changed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from platformdirs import user_cache_dir
from scipy.io import wavfile

from ..errors import PodcastError
from ..length import OFFLINE_PACE, Pace
from ..textnorm import Lexicon


@dataclass(frozen=True)
class Sentence:
    """A span of a clip: the spoken text and where it sits in the clip, in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Clip:
    """Mono float32 audio for one line, plus sentence timings inside it."""

    samples: np.ndarray
    sample_rate: int
    sentences: tuple[Sentence, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class Engine(Protocol):
    """A speech backend. ``revision`` changes whenever its output for a text would."""

    name: ClassVar[str]
    revision: ClassVar[str]
    needs_network: ClassVar[bool]
    word_timings: ClassVar[bool]
    pace: ClassVar[Pace]  # how fast it speaks, for length planning

    def speech_text(self, text: str) -> str:
        """The normalised text this engine is fed for display ``text``."""
        ...

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        """Speak already-normalised ``text`` with ``voice`` settings."""
        ...


EngineFactory = Callable[[Lexicon | None], Engine]
ENGINES: dict[str, EngineFactory] = {}


def register_engine(factory: EngineFactory) -> EngineFactory:
    ENGINES[factory.name] = factory  # type: ignore[attr-defined]
    return factory


def engine_pace(name: str) -> Pace:
    """An engine's speaking pace without constructing it (the writer plans with it)."""
    from . import offline  # noqa: F401  (registers the built-in engines)

    factory = ENGINES.get(name)
    return getattr(factory, "pace", OFFLINE_PACE)


def get_engine(name: str, lexicon: Lexicon | None = None) -> Engine:
    """Construct engine ``name``; ``lexicon`` overrides the built-in pronunciation lexicon."""
    from . import offline  # noqa: F401  (registers the built-in engines)

    try:
        factory = ENGINES[name]
    except KeyError:
        raise PodcastError(
            f"unknown speech engine {name!r}; available: {', '.join(sorted(ENGINES))}"
        ) from None
    return factory(lexicon)


def cache_root() -> Path:
    """Where clips and prepared models live; ``PODCAST_CACHE_DIR`` overrides it."""
    env = os.environ.get("PODCAST_CACHE_DIR")
    return Path(env) if env else Path(user_cache_dir("podcast", appauthor=False))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and ``os.replace``: never a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; published files must be readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ClipCache:
    """Content-addressed store of synthesized clips (WAV + JSON timings)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or cache_root() / "clips"

    @staticmethod
    def key(engine: Engine, voice: dict[str, Any], speech_text: str) -> str:
        blob = json.dumps([engine.name, engine.revision, voice, speech_text],
                          sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _paths(self, key: str) -> tuple[Path, Path]:
        base = self.folder / key[:2] / key
        return base.with_suffix(".wav"), base.with_suffix(".json")

    def get(self, key: str) -> Clip | None:
        wav, meta = self._paths(key)
        if not (wav.exists() and meta.exists()):
            return None
        try:
            rate, samples = wavfile.read(wav)
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged entry is just a miss
        return Clip(np.asarray(samples, dtype=np.float32), int(rate),
                    tuple(Sentence(**s) for s in info["sentences"]))

    def put(self, key: str, clip: Clip) -> None:
        wav, meta = self._paths(key)
        buf = io.BytesIO()
        wavfile.write(buf, clip.sample_rate, clip.samples.astype(np.float32))
        atomic_write_bytes(wav, buf.getvalue())
        info = {"sentences": [s.__dict__ for s in clip.sentences]}
        atomic_write_bytes(meta, json.dumps(info, ensure_ascii=False).encode())


SILENT_LINE_RATE = 24000


@dataclass(frozen=True)
class LineRequest:
    """One line to speak: who speaks it and the display text."""

    speaker: str
    text: str


@dataclass(frozen=True)
class SpeechStats:
    synthesized: int
    cached: int
    audio_seconds: float
    synth_seconds: float


def synthesize_lines(
    engine: Engine,
    lines: Iterable[LineRequest],
    voices: dict[str, dict[str, Any]],
    cache: ClipCache,
    on_progress: Callable[[bool], None] | None = None,
) -> tuple[list[Clip], SpeechStats]:
    """Speak every line through the cache. ``on_progress(cached)`` is called per line.

    Each fresh clip is stored as soon as it is made, so a crashed run resumes
    from the first line that was not finished.
    """
    import time

    clips: list[Clip] = []
    made = hits = 0
    audio = spent = 0.0
    for line in lines:
        voice = voices.get(line.speaker, {})
        text = engine.speech_text(line.text)
        if not text:
            # nothing speakable (a line of only punctuation): a short breath, not an engine error
            clips.append(Clip(np.zeros(SILENT_LINE_RATE // 4, np.float32), SILENT_LINE_RATE))
            if on_progress:
                on_progress(True)
            continue
        key = cache.key(engine, voice, text)
        clip = cache.get(key)
        was_cached = clip is not None
        if clip is None:
            t0 = time.perf_counter()
            clip = engine.synthesize(text, voice)
            spent += time.perf_counter() - t0
            audio += clip.duration
            cache.put(key, clip)
            made += 1
        else:
            hits += 1
        clips.append(clip)
        if on_progress:
            on_progress(was_cached)
    return clips, SpeechStats(made, hits, audio, spent)
